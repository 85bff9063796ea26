#!/usr/bin/env bash
# Stops the dockerd that engine-up.sh started in DIR (by its recorded pid) and removes DIR.
engine_dir=${1:?usage: engine-down.sh DIR}
pid=$(cat "$engine_dir/dockerd.setsid-pid" 2>/dev/null || true)
if [ -n "$pid" ]; then
  kill "$pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null
fi
# Mounts dockerd left behind (a killed engine) would keep the folder from going.
grep -o " $engine_dir/[^ ]*" /proc/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null
rm -rf "$engine_dir"
exit 0
