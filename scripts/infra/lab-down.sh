#!/bin/bash
# Tears down what lab-up.sh started: jobs left in the lab's Slurm queue, exactly the daemons (slurmrestd
# among them) whose PIDs lab-up.sh recorded, every process still inside a lab namespace, the namespaces and the bridge.
# Safe to run more than once and after a partial lab-up. DELETE_STATE=1 also removes keys, state and the user.
LAB=${SKYDECK_LAB:-/tmp/skydeck-infra-lab}
RUN=$LAB/run
stop() { # pidfiles of daemons that can stop together: TERM to all, wait, KILL what is left after 5 s
  local f pid pids=()
  for f in "$@"; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
    rm -f "$f"
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  for _ in $(seq 50); do kill -0 "${pids[@]}" 2>/dev/null || return 0; sleep 0.1; done
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && { echo "[lab-down] SIGKILL $pid"; kill -KILL "$pid"; }; done
  return 0
}
if [ -f "$RUN/slurmctld.pid" ] && [ -f "$LAB/slurm/etc/slurm.conf" ]; then
  export SLURM_CONF=$LAB/slurm/etc/slurm.conf
  jobs=$(timeout 5 squeue -h -o %i 2>/dev/null)
  if [ -n "$jobs" ]; then
    echo "[lab-down] cancelling Slurm jobs left in the lab queue: $(echo $jobs)"
    timeout 5 scancel $jobs
    for _ in $(seq 100); do [ -z "$(timeout 5 squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.1; done
  fi
fi
# slurmrestd, compute daemons and sshd, then the controller, munge last
stop "$RUN"/slurmrestd.pid "$RUN"/slurmd-*.pid "$RUN"/sshd-*.pid
stop "$RUN"/slurmctld.pid
stop "$RUN"/munged.pid
rm -f "$RUN"/*.sshdpid
for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^sdk-h[0-9]+$/ {print $1}'); do
  # sessions and jobs started inside the namespace outlive its sshd listener; they are all the lab's own
  pids=$(ip netns pids "$ns" 2>/dev/null)
  [ -n "$pids" ] && { echo "[lab-down] killing processes left in $ns: $(echo $pids)"; kill -KILL $pids 2>/dev/null; }
  ip netns del "$ns" && echo "[lab-down] deleted netns $ns"   # also removes its veth pair
done
ip link del br-sdk 2>/dev/null && echo "[lab-down] deleted bridge br-sdk"
if [ "${DELETE_STATE:-0}" = 1 ]; then
  rm -rf "$LAB"
  id sdklab >/dev/null 2>&1 && userdel -r sdklab 2>/dev/null && echo "[lab-down] deleted user sdklab"
fi
true
