#!/usr/bin/env bash
# The docker suite, on a real Docker engine:
#   1. the team server's image builds, starts, and answers /api/health (and 401 without credentials);
#   2. tasks with `image_id: docker:IMAGE` run in a container on local infra (test/docker/image-tasks-local.test.ts);
#   3. and on an SSH host of the infra lab (test/docker/image-tasks-ssh.test.ts), whose hosts are network
#      namespaces on this machine reaching the same engine through its socket (a filesystem path).
#
# Needs a Docker engine. It uses one that answers already (DOCKER_HOST or the default socket); else, as
# root, it installs docker.io if missing and starts a private dockerd for the run
# (scripts/docker/engine-up.sh), stopping it afterwards by its pid. On a shared machine run it under
# `flock /tmp/skydeck-docker.lock` (it does not take that lock itself, so wrapping cannot deadlock);
# the SSH part takes the infra lab's lock (test/docker/with-lab.sh), as test/infra/run.sh does.
# When no engine can be had, it says so loudly. That fails the run where an engine is part of the job
# (CI=1 or SKYDECK_REQUIRE_DOCKER=1, as .ci/run on these machines): elsewhere (a laptop without Docker)
# it is a skip, not a failure, because nothing about the code is wrong there.
#
# Docker Hub may be out of reach (these machines reach only npm and Debian): then the team server's base
# image is made here from this machine's own Node binary and its libraries, and passed as NODE_IMAGE; the
# task image is always made from this machine's bash and busybox (scripts/docker/test-image.sh).
# SKYDECK_DOCKER_PARTS="server local ssh" picks parts (default: all).
set -euo pipefail
cd "$(dirname "$0")/../.."
PARTS=${SKYDECK_DOCKER_PARTS:-server local ssh}
part() { [[ " $PARTS " == *" $1 "* ]]; }

required() { [ -n "${CI:-}" ] || [ "${SKYDECK_REQUIRE_DOCKER:-}" = 1 ]; }
no_engine() {
  echo "" >&2
  echo "################################################################################" >&2
  echo "## DOCKER TEST NOT RUN: $1" >&2
  echo "################################################################################" >&2
  if required; then echo "## An engine is required here (CI or SKYDECK_REQUIRE_DOCKER=1): FAILING." >&2; exit 1; fi
  echo "## Not required here (set SKYDECK_REQUIRE_DOCKER=1 to make this fail): skipping." >&2
  exit 0
}

fail() { echo "[docker-test] FAIL: $*" >&2; docker logs "$NAME" 2>&1 | tail -20 >&2 || true; exit 1; }

WORK=$(mktemp -d /tmp/skydeck-docker-test.XXXXXX)
# The engine's socket is under it, and the infra lab's login user must reach it (mktemp makes 0700).
chmod 755 "$WORK"
TAG="skydeck-test:$$"
BASE_TAG="skydeck-test-node:$$"
NAME="skydeck-test-$$"
VOLUME="skydeck-test-data-$$"
TASK_IMAGE="skydeck-test-task:$$"
TASK_IMAGE_NO_BASH="skydeck-test-task-nobash:$$"
OWN_ENGINE=""
cleanup() {
  set +e
  if docker info >/dev/null 2>&1; then
    docker rm -f "$NAME" "$NAME-open" >/dev/null 2>&1
    docker volume rm -f "$VOLUME" >/dev/null 2>&1
    docker rmi -f "$TAG" "$BASE_TAG" "$TASK_IMAGE" "$TASK_IMAGE_NO_BASH" >/dev/null 2>&1
  fi
  [ -n "$OWN_ENGINE" ] && bash scripts/docker/engine-down.sh "$WORK/dockerd"
  rm -rf "$WORK"
}
trap cleanup EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
since() { local ms=$(( $(now_ms) - $1 )); printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100)); }
t0=$(now_ms)

# ---- an engine ----
if ! docker info >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || no_engine "no Docker engine answers, and only root can start one here"
  OWN_ENGINE=1
  # shellcheck source=../../scripts/docker/engine-up.sh
  source scripts/docker/engine-up.sh "$WORK/dockerd" || no_engine "no engine could be started (above)"
  echo "[docker-test] started a private dockerd (pid $SKYDECK_DOCKERD_PID) after $(since "$t0")"
fi

# ==== 1. the team server's image ====
server_image_test() {
  # ---- the bundle and a base image ----
  [ -f dist/server.js ] && [ -f dist/cli.js ] || npm run build
  NODE_IMAGE=node:20-bookworm-slim
  if ! docker image inspect "$NODE_IMAGE" >/dev/null 2>&1 && ! timeout 60 docker pull -q "$NODE_IMAGE" >/dev/null 2>&1; then
    echo "[docker-test] $NODE_IMAGE cannot be pulled here; making a base image from this machine's Node ($(node --version))"
    root="$WORK/rootfs"
    mkdir -p "$root"/{bin,usr/bin,tmp,etc,data}
    chmod 1777 "$root/tmp"
    node_bin=$(command -v node)
    cp "$node_bin" "$root/usr/bin/node"
    for lib in $(ldd "$node_bin" | grep -o '/[^ ]*'); do mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; done
    busybox=$(command -v busybox || true)
    [ -n "$busybox" ] || { scripts/apt-install.sh busybox-static >/dev/null 2>&1; busybox=$(command -v busybox); }
    cp "$busybox" "$root/bin/busybox"
    for c in sh mkdir chown ls cat; do ln -sf busybox "$root/bin/$c"; done
    printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/data:/bin/sh\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnode:x:1000:\n' >"$root/etc/group"
    tar -C "$root" -cf "$WORK/base.tar" .
    docker import -c 'ENV PATH=/usr/bin:/bin' "$WORK/base.tar" "$BASE_TAG" >/dev/null
    NODE_IMAGE=$BASE_TAG
  fi

  # ---- build ----
  b0=$(now_ms)
  docker build -q --build-arg NODE_IMAGE="$NODE_IMAGE" -t "$TAG" . >/dev/null
  echo "[docker-test] image built in $(since "$b0") ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}'))"


  # ---- without accounts it must refuse to start (it listens on 0.0.0.0) ----
  set +e
  refusal=$(docker run --name "$NAME-open" "$TAG" 2>&1); code=$?
  set -e
  [ "$code" = 2 ] && grep -q 'refusing to listen on 0.0.0.0 without authentication' <<<"$refusal" || fail "started without accounts (exit $code): $refusal"
  echo "[docker-test] without accounts the container refuses to start, saying how to add one"

  # ---- accounts, then the server ----
  docker volume create "$VOLUME" >/dev/null
  docker run --rm -i -v "$VOLUME:/data" "$TAG" users add admin --role admin --password-stdin <<<'docker-test-password' >/dev/null
  docker run -d --name "$NAME" -v "$VOLUME:/data" "$TAG" >/dev/null
  probe='const [u, a] = process.argv.slice(1); fetch("http://127.0.0.1:46590" + u, { headers: a ? { authorization: a } : {} }).then(async (r) => console.log(r.status, await r.text()), (e) => console.log(0, e.message))'
  answer=""
  for _ in $(seq 100); do
    answer=$(docker exec "$NAME" node -e "$probe" /api/health 2>/dev/null || true)
    [[ "$answer" == 200* ]] && break
    sleep 0.1
  done
  [[ "$answer" == 200*'"status":"healthy"'* ]] || fail "/api/health answered: $answer"
  echo "[docker-test] /api/health: ${answer:0:120}"
  [[ "$(docker exec "$NAME" node -e "$probe" /api/requests)" == 401* ]] || fail "/api/requests without credentials was not refused"
  auth="Basic $(printf 'admin:docker-test-password' | base64)"
  [[ "$(docker exec "$NAME" node -e "$probe" /api/requests "$auth")" == 200* ]] || fail "/api/requests as admin was refused"
  [ "$(docker exec "$NAME" node -e 'console.log(process.getuid())')" = 1000 ] || fail "the server does not run as uid 1000"
  echo "[docker-test] team server in the container: 401 without credentials, 200 as admin, running as uid 1000"

  # ---- graceful stop ----
  s0=$(now_ms)
  docker stop -t 20 "$NAME" >/dev/null
  code=$(docker inspect -f '{{.State.ExitCode}}' "$NAME")
  [ "$code" = 0 ] || fail "the server exited with $code on SIGTERM"
  echo "[docker-test] docker stop: clean exit in $(since "$s0")"
}

[ -f dist/server.js ] && [ -f dist/cli.js ] || npm run build
if part server; then server_image_test; fi

# ==== 2. and 3. tasks in containers ====
if part local || part ssh; then
  bash scripts/docker/test-image.sh "$TASK_IMAGE"
  bash scripts/docker/test-image.sh "$TASK_IMAGE_NO_BASH" --without-bash
  export SKYDECK_TEST_IMAGE=$TASK_IMAGE SKYDECK_TEST_IMAGE_NO_BASH=$TASK_IMAGE_NO_BASH
fi
run_tests() { node --import tsx --test --test-reporter=spec --test-concurrency=1 --test-timeout=180000 --test-force-exit "$@"; }
if part local; then
  l0=$(now_ms)
  run_tests test/docker/image-tasks-local.test.ts || fail "image tasks on local infra (above)"
  echo "[docker-test] image tasks on local infra: $(since "$l0")"
fi
if part ssh; then
  s0=$(now_ms)
  bash test/docker/with-lab.sh node --import tsx --test --test-reporter=spec --test-concurrency=1 --test-timeout=180000 --test-force-exit test/docker/image-tasks-ssh.test.ts || fail "image tasks on SSH hosts (above)"
  echo "[docker-test] image tasks on SSH hosts of the infra lab: $(since "$s0")"
fi
echo "[docker-test] PASS in $(since "$t0")"
