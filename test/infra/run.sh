#!/bin/bash
# Runs the infra tests against real daemons: brings up the lab (sshd hosts in network namespaces, a
# Slurm cluster; installing packages with apt when missing), runs test/infra/*.test.ts, and tears the
# lab down whatever happens.
set -uo pipefail
cd "$(dirname "$0")/../.."
export SKYDECK_LAB=${SKYDECK_LAB:-/tmp/skydeck-infra-lab}
T0=$(date +%s.%N)
# Two runs at once (two engineers' `npm test`) would fight over the namespaces and daemons: take turns.
exec 9>"${SKYDECK_LAB}.lock"
flock 9
trap 'bash scripts/infra/lab-down.sh' EXIT
trap 'exit 130' INT TERM
# A lab left by a killed run would hold the namespace names and ports.
bash scripts/infra/lab-down.sh >/dev/null 2>&1
bash scripts/infra/lab-up.sh || exit 1
source "$SKYDECK_LAB/lab.env"
files=$(ls test/infra/*.test.ts 2>/dev/null)
[ -n "$files" ] || exit 0
# The VS Code tests drive code-server in Chromium: install them first (minutes on a fresh machine), outside the per-file timeout.
case " ${SKYDECK_INFRA_TESTS:-$files} " in *test/infra/vscode*) bash scripts/e2e/setup.sh > /dev/null || exit 1 ;; esac
# One file at a time: the files share the lab's hosts and Slurm nodes. A test that hangs fails after 3 min; a handle left open cannot keep the run from ending.
node --import tsx --test --test-reporter=spec --test-concurrency=1 --test-timeout=180000 --test-force-exit ${SKYDECK_INFRA_TESTS:-$files}
rc=$?
echo "[infra] tests finished in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1fs", b-a}') (exit $rc)"
exit $rc
