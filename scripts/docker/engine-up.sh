#!/usr/bin/env bash
# Starts a private Docker engine for the test suites: `source scripts/docker/engine-up.sh DIR`.
# Installs docker.io with apt when dockerd is missing (a fresh machine has only the client, if that),
# starts dockerd under setsid on unix://DIR/docker.sock (no systemd here: started by hand, as
# /work/shared/recipes/containers-up.sh does), waits until it answers, and exports DOCKER_HOST and
# SKYDECK_DOCKERD_PID. Stop it with scripts/docker/engine-down.sh DIR.
#
# dockerd runs with --iptables=false --bridge=none: the infra lab's namespaces talk over a Linux bridge,
# and Docker's iptables rules (FORWARD policy DROP) would cut them off; containers use the host's
# network (--network host), as SkyPilot's runtime containers do.
# Returns non-zero (and says why on stderr) when no engine can be had.
engine_dir=${1:?usage: source engine-up.sh DIR}
if ! command -v dockerd >/dev/null || ! command -v runc >/dev/null; then
  echo "[docker-engine] installing docker.io (apt)" >&2
  "$(dirname "${BASH_SOURCE[0]}")/../apt-install.sh" docker.io runc >/dev/null 2>&1 || { echo "[docker-engine] docker.io could not be installed with apt-get" >&2; return 1; }
fi
mkdir -p "$engine_dir"
# The lab's SSH users reach the socket through this folder (mktemp makes folders 0700).
chmod 755 "$engine_dir"
getent group docker >/dev/null || groupadd --system docker
export DOCKER_HOST="unix://$engine_dir/docker.sock"
setsid dockerd --data-root "$engine_dir/data" --exec-root "$engine_dir/exec" --pidfile "$engine_dir/dockerd.pid" \
  -H "$DOCKER_HOST" --group docker --iptables=false --ip6tables=false --bridge=none \
  >"$engine_dir/dockerd.log" 2>&1 </dev/null &
export SKYDECK_DOCKERD_PID=$!
echo "$SKYDECK_DOCKERD_PID" >"$engine_dir/dockerd.setsid-pid"
for _ in $(seq 150); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
if ! docker info >/dev/null 2>&1; then
  tail -20 "$engine_dir/dockerd.log" >&2
  echo "[docker-engine] dockerd did not start (log above)" >&2
  return 1
fi
