#!/usr/bin/env bash
# Installs what the end-to-end tests need when it is missing, and prints where code-server's entry point is:
#   apt: chromium (the browser), libkrb5-dev + pkg-config (code-server's kerberos module builds from source),
#        ripgrep (stands in for @vscode/ripgrep, whose postinstall downloads from GitHub, unreachable here)
#   npm: code-server 4.100.3 (VS Code 1.100.3; the last release whose engines allow Node 20) into a cache folder
#        outside the repository, built once and reused by later runs.
# Usage: scripts/e2e/setup.sh   -> last line of stdout is the path of code-server's out/node/entry.js
set -euo pipefail
CS_VERSION=4.100.3
CACHE=${SKYDECK_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/skydeck-e2e}
CS_DIR=$CACHE/code-server-$CS_VERSION
ENTRY=$CS_DIR/node_modules/code-server/out/node/entry.js
t0=$SECONDS; step() { echo "== setup [$((SECONDS - t0))s] $*" >&2; }

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v rg >/dev/null || missing+=(ripgrep)
command -v pkg-config >/dev/null || missing+=(pkg-config)
[ -e /usr/include/krb5.h ] || [ -e /usr/include/krb5/krb5.h ] || missing+=(libkrb5-dev)
if [ ${#missing[@]} -gt 0 ]; then
  step "apt-get install ${missing[*]}"
  "$(dirname "${BASH_SOURCE[0]}")/../apt-install.sh" "${missing[@]}"
fi

# The marker is written last, so an interrupted install is redone rather than half-used. Two runs at once (the
# e2e and infra suites both drive code-server) take turns, so the second finds the first's install.
mkdir -p "$CACHE"
exec 8>"$CACHE/.install.lock"
flock 8
if [ ! -f "$CS_DIR/.complete" ]; then
  step "code-server $CS_VERSION into $CS_DIR"
  # ~/.npmrc here has yes=false, which blocks the `npx node-gyp` inside node-pty's install script;
  # code-server's postinstall refuses to run as root unless unsafe_perm is set.
  export npm_config_yes=true npm_config_unsafe_perm=true npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
  # code-server writes a default config.yaml on first run; keep it in the cache, not in $HOME.
  export XDG_CONFIG_HOME=$CS_DIR/xdg-config XDG_DATA_HOME=$CS_DIR/xdg-data
  rm -rf "$CS_DIR"; mkdir -p "$CS_DIR"; cd "$CS_DIR"
  echo '{"private":true}' > package.json
  # Scripts run by hand below so the GitHub downloads they would attempt can be sidestepped.
  npm install --no-save --ignore-scripts "code-server@$CS_VERSION" >&2
  npm rebuild argon2 >&2   # its prebuilt download fails; node-gyp builds it from source
  cd node_modules/code-server/lib/vscode
  npm install --omit=dev --ignore-scripts >&2
  mkdir -p node_modules/@vscode/ripgrep/bin   # @vscode/ripgrep's postinstall skips the download when bin/ exists
  cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
  npm rebuild >&2                              # node-pty, spdlog, kerberos, native-watchdog ... via node-gyp
  cd ../..
  npm run postinstall >&2
  node "$ENTRY" --version >&2
  touch "$CS_DIR/.complete"
fi
step "ready"
echo "$ENTRY"
