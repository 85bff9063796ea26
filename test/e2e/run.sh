#!/usr/bin/env bash
# End-to-end tests of the VS Code extension: the packaged .vsix in a fresh code-server profile, Debian's
# Chromium driven by playwright-core, and the project's real API server on a free loopback port.
#   1. installs what is missing (scripts/e2e/setup.sh: apt packages, code-server 4.100.3 in a cache)
#   2. packages the .vsix (npm run package) and bundles the extension-host tests
#   3. starts the API server (temporary SKYDECK_HOME) and code-server (temporary profile, test/e2e/code-server.sh)
#   4. runs the UI test (test/e2e/ui.test.mjs) and the mocha tests inside the extension host
# Screenshots and logs are kept under .test-artifacts/e2e/; everything else is removed, and every process
# started here is stopped by its process group, whether the tests pass or not.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ARTIFACTS=$ROOT/.test-artifacts/e2e
t0=$SECONDS
step() { echo "== e2e [$((SECONDS - t0))s] $*"; }
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_http() { # url, seconds
  for _ in $(seq 1 $(($2 * 10))); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "no answer from $1 after $2 s" >&2; return 1
}

TMP=$(mktemp -d /tmp/skydeck-e2e.XXXXXX)
SERVER_PID= CS_PID= API_PORT=
export SKYDECK_HOME=$TMP/home
api() { # method path [json]: a call to the API server as its local user (the token the server wrote)
  curl -sf -X "$1" -H "authorization: Bearer $(cat "$SKYDECK_HOME/server/local-token" 2>/dev/null)" \
    -H 'content-type: application/json' ${3:+-d "$3"} "http://127.0.0.1:$API_PORT$2"
}
# Processes whose command line names this run's temporary folder (jobs of its clusters, its code-server).
processes_of_this_run() {
  local p
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = "$$" ] && continue
    tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep -qF "$TMP/" && echo "${p#/proc/}"
  done
}
cleanup() {
  local status=$?
  set +e
  if [ -n "$SERVER_PID" ]; then
    # Jobs run apart from the server (they survive its restarts by design): tear every cluster down first.
    api POST /api/cancel '{"all":true,"allUsers":true}' > /dev/null
    for cluster in $(api GET /api/clusters | node -e 'let t="";process.stdin.on("data",d=>t+=d).on("end",()=>{try{for(const c of JSON.parse(t).clusters)console.log(c.name)}catch{}})'); do
      api POST /api/v1/down "{\"clusterName\":\"$cluster\"}" > /dev/null
    done
    for _ in $(seq 1 100); do [ "$(api GET /api/clusters)" = '{"clusters":[]}' ] && break; sleep 0.2; done
  fi
  for pid in $CS_PID $SERVER_PID; do kill -TERM -- "-$pid" 2>/dev/null; done
  sleep 0.5
  for pid in $CS_PID $SERVER_PID; do kill -KILL -- "-$pid" 2>/dev/null; done
  local leaked
  leaked=$(processes_of_this_run)
  if [ -n "$leaked" ]; then
    echo "!! processes of this run outlived the teardown; killing them:" >&2
    for pid in $leaked; do ps -o pid=,cmd= -p "$pid" >&2; kill -KILL "$pid" 2>/dev/null; done
  fi
  mkdir -p "$ARTIFACTS/logs"
  cp "$TMP/code-server.log" "$TMP/api-server.log" "$ARTIFACTS/logs/" 2>/dev/null
  # --backup: each window of the run (a test reloads it) has its own exthost logs of the same names.
  find "$TMP/ud/logs" -name '*.log' -path '*exthost*' -exec cp --backup=numbered {} "$ARTIFACTS/logs/" \; 2>/dev/null
  rm -rf "$TMP"
  echo "== e2e [$((SECONDS - t0))s] finished with status $status; screenshots in $ARTIFACTS/shots"
  exit $status
}
trap cleanup EXIT INT TERM
rm -rf "$ARTIFACTS"; mkdir -p "$ARTIFACTS/shots"

step "set-up (installs only what is missing)"
CS_ENTRY=$(bash "$ROOT/scripts/e2e/setup.sh" | tail -n 1)

step "package the .vsix and bundle the extension-host tests"
cd "$ROOT"
node scripts/package-vsix.mjs > "$TMP/package.log" 2>&1 || { cat "$TMP/package.log"; exit 1; }
VSIX=$(ls -1 "$ROOT"/skydeck-*.vsix | head -n 1)
echo "$(basename "$VSIX"): $(du -k "$VSIX" | cut -f1) KiB"
rm -rf build/e2e
node_modules/.bin/esbuild test/e2e/exthost/*.ts --bundle --platform=node --format=cjs --target=node20 \
  --external:vscode --external:mocha --log-level=warning --outdir=build/e2e/exthost

step "start the API server on a free loopback port"
API_PORT=$(free_port)
mkdir -p "$SKYDECK_HOME"
setsid node "$ROOT/dist/server.js" --host 127.0.0.1 --port "$API_PORT" --data-dir "$SKYDECK_HOME/server" > "$TMP/api-server.log" 2>&1 &
SERVER_PID=$!
wait_http "http://127.0.0.1:$API_PORT/api/health" 20

step "start code-server on a fresh profile with the .vsix installed (test/e2e/code-server.sh)"
WS=$TMP/ws
mkdir -p "$WS"
cp "$ROOT"/test/e2e/workspace/*.yaml "$WS/"
export E2E_WEB_PORT=$(free_port)   # the port web.yaml's server declares and listens on
sed -i "s/@WEB_PORT@/$E2E_WEB_PORT/g" "$WS/web.yaml"
CS_PORT=$(free_port)
CS_ENTRY=$CS_ENTRY setsid bash "$ROOT/test/e2e/code-server.sh" "$VSIX" "$TMP" "$CS_PORT" "http://127.0.0.1:$API_PORT" "$WS" > "$TMP/code-server.log" 2>&1 &
CS_PID=$!
wait_http "http://127.0.0.1:$CS_PORT/healthz" 90 || { cat "$TMP/code-server.log"; exit 1; }

export CHROME=${CHROME:-/usr/bin/chromium}
status=0
step "UI test in headless Chromium"
# E2E_UI_TESTS (a regex of test names) runs only those UI tests, and E2E_SKIP_EXTHOST=1 skips the
# extension-host part: for working on one test; CI runs everything.
CS_URL="http://127.0.0.1:$CS_PORT/?folder=$WS" API_URL="http://127.0.0.1:$API_PORT" SHOTS="$ARTIFACTS/shots" \
  node --test --test-reporter=spec --test-concurrency=1 ${E2E_UI_TESTS:+--test-name-pattern="$E2E_UI_TESTS"} test/e2e/ui.test.mjs || status=1

if [ -z "${E2E_SKIP_EXTHOST:-}" ]; then
  step "mocha inside code-server's extension host"
  CS_BASE="http://127.0.0.1:$CS_PORT" EXT_DEV_PATH="$ROOT" EXT_TESTS_PATH="$ROOT/build/e2e/exthost/index" WS_DIR="$WS" \
    node test/e2e/exthost-runner.mjs || status=1
fi

step "done"
exit $status
