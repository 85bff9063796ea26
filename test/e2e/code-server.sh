#!/usr/bin/env bash
# Runs code-server in the foreground on a fresh profile with the SkyDeck .vsix installed and pointed at an
# API server: the one start-up the VS Code tests share (test/e2e/run.sh, test/infra/vscode-*.test.ts).
# Usage: test/e2e/code-server.sh VSIX DIR PORT API_URL WORKSPACE
#   DIR        a folder of the caller's that receives the profile (ud/), extensions (exts/) and
#              code-server's XDG state; the caller removes it (and finds the logs under ud/logs)
#   PORT       the loopback port code-server listens on (ready when /healthz answers)
#   API_URL    skydeck.apiServerEndpoint; SKYDECK_HOME in the environment reaches the extension (a local
#              server's token)
#   CS_ENTRY   (env, optional) code-server's entry.js when the caller already ran scripts/e2e/setup.sh
# Started with setsid by the caller, so the whole group stops with one kill.
set -euo pipefail
[ $# -eq 5 ] || { echo "usage: $0 VSIX DIR PORT API_URL WORKSPACE" >&2; exit 2; }
VSIX=$1 DIR=$2 PORT=$3 API_URL=$4 WS=$5
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CS_ENTRY=${CS_ENTRY:-$(bash "$ROOT/scripts/e2e/setup.sh" | tail -n 1)}

# code-server keeps its config and state under XDG folders: point them into the caller's folder.
export XDG_CONFIG_HOME=$DIR/xdg-config XDG_DATA_HOME=$DIR/xdg-data
UD=$DIR/ud EXTS=$DIR/exts
mkdir -p "$UD/User" "$EXTS"   # a missing --user-data-dir makes --install-extension spin forever
cat > "$UD/User/settings.json" <<EOF
{ "workbench.startupEditor": "none", "security.workspace.trust.enabled": false, "telemetry.telemetryLevel": "off",
  "update.mode": "none", "extensions.autoCheckUpdates": false, "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true, "workbench.tips.enabled": false, "workbench.enableExperiments": false,
  "chat.commandCenter.enabled": false, "workbench.secondarySideBar.defaultVisibility": "hidden",
  "terminal.integrated.gpuAcceleration": "off", "[yaml]": { "editor.autoIndent": "none" },
  "editor.stickyScroll.enabled": false,
  "skydeck.apiServerEndpoint": "$API_URL" }
EOF
node "$CS_ENTRY" --user-data-dir "$UD" --extensions-dir "$EXTS" --install-extension "$VSIX" > "$DIR/install.log" 2>&1 \
  || { cat "$DIR/install.log" >&2; exit 1; }
node "$CS_ENTRY" --user-data-dir "$UD" --extensions-dir "$EXTS" --list-extensions --show-versions

exec node "$CS_ENTRY" --bind-addr "127.0.0.1:$PORT" --auth none --disable-telemetry --disable-update-check \
  --disable-workspace-trust --disable-getting-started-override \
  --user-data-dir "$UD" --extensions-dir "$EXTS" "$WS"
