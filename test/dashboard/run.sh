#!/usr/bin/env bash
# The dashboard suite: the real server and CLI, the page in Debian's Chromium driven by playwright-core.
# Installs Chromium when missing (a fresh machine has none). Screenshots go to .test-artifacts/dashboard/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v chromium >/dev/null || "$ROOT/scripts/apt-install.sh" chromium
cd "$ROOT"
[ -f dist/server.js ] && [ -f dist/dashboard/dashboard.js ] || npm run build
exec node --import tsx --test --test-reporter=spec --test-concurrency=1 --test-timeout=180000 test/dashboard/*.test.ts
