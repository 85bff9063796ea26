#!/usr/bin/env bash
# Runs a command with the infra lab up (scripts/infra/lab-up.sh: sshd hosts in network namespaces) and its
# login user able to use the Docker engine of this run: `test/docker/with-lab.sh CMD...`, with DOCKER_HOST
# set to that engine's unix socket. The lab's hosts share this machine's filesystem, so the socket is
# reachable from them as a path; the lab user joins the socket's group and gets a docker context naming
# it, the way a host's own docker CLI is pointed at an engine. Takes the lab's lock; undoes all of it.
set -uo pipefail
cd "$(dirname "$0")/../.."
: "${DOCKER_HOST:?DOCKER_HOST must name the engine (unix://...)}"
export SKYDECK_LAB=${SKYDECK_LAB:-/tmp/skydeck-infra-lab}
exec 9>"${SKYDECK_LAB}.lock"
flock 9
LAB_USER=${LAB_USER:-sdklab}
CONTEXT=skydeck-test-$$
undo() {
  if id "$LAB_USER" >/dev/null 2>&1; then
    runuser -u "$LAB_USER" -- env -u DOCKER_HOST docker context use default >/dev/null 2>&1
    runuser -u "$LAB_USER" -- env -u DOCKER_HOST docker context rm -f "$CONTEXT" >/dev/null 2>&1
    gpasswd -d "$LAB_USER" docker >/dev/null 2>&1
  fi
  bash scripts/infra/lab-down.sh >/dev/null 2>&1
}
trap undo EXIT
trap 'exit 130' INT TERM
bash scripts/infra/lab-down.sh >/dev/null 2>&1
bash scripts/infra/lab-up.sh || exit 1
source "$SKYDECK_LAB/lab.env"
socket=${DOCKER_HOST#unix://}
usermod -aG "$(stat -c %G "$socket")" "$LAB_USER"
runuser -u "$LAB_USER" -- env -u DOCKER_HOST docker context create "$CONTEXT" --docker "host=$DOCKER_HOST" >/dev/null
runuser -u "$LAB_USER" -- env -u DOCKER_HOST docker context use "$CONTEXT" >/dev/null
"$@"
