#!/bin/bash
# Brings up the infra test lab on this machine (from the proven recipes in /work/shared/recipes):
#   - SSH hosts h1..h$SSH_HOSTS: one network namespace each (sdk-h1...) on bridge br-sdk
#     (10.231.0.1/24 on the root side), sshd on 10.231.0.1N:22 inside, login user $LAB_USER
#   - Slurm: munged, slurmctld on 127.0.0.1:$SLURMCTLD_PORT, slurmd n1..n$SLURM_NODES (one host,
#     distinct ports; node nK has its own loopback address 127.0.0.2K, so a job's ports can be told
#     apart per node as on separate machines), partition `debug` (default) of all of them and `gpu` of the last one, which
#     declares two GPUs as GRES (gpu:t4:2) without hardware (gres.conf: AutoDetect=off, no File);
#     slurmrestd with JWT auth on 127.0.0.1:<free port>
#     and a token file for it
# Every daemon runs in the foreground under setsid; its PID goes to $LAB/run/*.pid so lab-down.sh
# stops exactly those. Writes $LAB/lab.env for the tests. Installs missing packages with apt.
# Namespaces share the filesystem, users and PIDs with this machine: only the network is separate.
set -euo pipefail
LAB=${SKYDECK_LAB:-/tmp/skydeck-infra-lab}
RUN=$LAB/run
K=$LAB/ssh
S=$LAB/slurm
SSH_HOSTS=${SSH_HOSTS:-3}
SLURM_NODES=${SLURM_NODES:-2}
LAB_USER=${LAB_USER:-sdklab}  # non-root: OpenSSH ignores signal requests for root, so we must not rely on them anyway
SLURMCTLD_PORT=${SLURMCTLD_PORT:-16817}
SLURMD_PORT_BASE=${SLURMD_PORT_BASE:-16820}
ts() { date +%s.%N; }
el() { awk -v a="$1" -v b="$(ts)" 'BEGIN{printf "%.2fs", b-a}'; }
T0=$(ts)

# ---- packages ---------------------------------------------------------------------------------
missing=()
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh >/dev/null || missing+=(openssh-client)
command -v ip >/dev/null || missing+=(iproute2)
command -v pgrep >/dev/null || missing+=(procps)
command -v slurmctld >/dev/null || missing+=(slurm-wlm)
command -v munged >/dev/null || missing+=(munge)
command -v slurmrestd >/dev/null || missing+=(slurmrestd)
ls /usr/lib/*/slurm-wlm/auth_jwt.so >/dev/null 2>&1 || missing+=(slurm-wlm-jwt-plugin)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "[lab-up] apt-get install ${missing[*]}"
  "$(dirname "${BASH_SOURCE[0]}")/../apt-install.sh" "${missing[@]}"
fi
echo "[lab-up] packages ready: $(el "$T0")"
mkdir -p "$RUN" "$K" "$S"/{etc,spool/ctld,spool/d,log} /run/sshd   # /run/sshd: sshd's privilege-separation dir
chmod 755 "$LAB" "$K"                                               # authorized_keys is read with the user's uid

# ---- SSH hosts ----------------------------------------------------------------------------------
T1=$(ts)
if ! id "$LAB_USER" >/dev/null 2>&1; then
  useradd -m -s /bin/bash "$LAB_USER"
  usermod -p '*' "$LAB_USER"   # useradd leaves '!' (locked); sshd without PAM refuses locked accounts
fi
[ -f "$K/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C skydeck-lab-host -f "$K/host_ed25519"
[ -f "$K/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C skydeck-lab-client -f "$K/id_ed25519"
cp "$K/id_ed25519.pub" "$K/authorized_keys" && chmod 644 "$K/authorized_keys"

ip link add br-sdk type bridge
ip addr add 10.231.0.1/24 dev br-sdk
ip link set br-sdk up
hosts=()
for i in $(seq 1 "$SSH_HOSTS"); do
  h=h$i ns=sdk-h$i addr=10.231.0.$((10 + i))
  ip netns add "$ns"
  ip link add "veth-sdk$i" type veth peer name eth0 netns "$ns"
  ip link set "veth-sdk$i" master br-sdk up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via 10.231.0.1
  cat > "$K/sshd_$h.conf" <<EOF
ListenAddress $addr
Port 22
HostKey $K/host_ed25519
PidFile $RUN/sshd-$h.sshdpid
AuthorizedKeysFile $K/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
PrintMotd no
Subsystem sftp internal-sftp
MaxStartups 100:30:200
MaxSessions 50
LogLevel INFO
EOF
  /usr/sbin/sshd -t -f "$K/sshd_$h.conf"
  setsid ip netns exec "$ns" /usr/sbin/sshd -D -e -f "$K/sshd_$h.conf" >"$K/sshd-$h.log" 2>&1 </dev/null &
  echo $! > "$RUN/sshd-$h.pid"
  hosts+=("$addr")
done
{
  echo "Host *"
  echo "  User $LAB_USER"
  echo "  IdentityFile $K/id_ed25519"
  echo "  IdentitiesOnly yes"
  echo "  UserKnownHostsFile /dev/null"
  echo "  StrictHostKeyChecking no"
  echo "  LogLevel ERROR"
  echo "  BatchMode yes"
  echo "  ConnectTimeout 5"
} > "$K/ssh_config"
for addr in "${hosts[@]}"; do
  for _ in $(seq 100); do ssh -F "$K/ssh_config" "$addr" true 2>/dev/null && break; sleep 0.1; done
  ssh -F "$K/ssh_config" "$addr" true
done
echo "[lab-up] ${#hosts[@]} sshd hosts ready (${hosts[*]}): $(el "$T1")"

# ---- Slurm --------------------------------------------------------------------------------------
T2=$(ts)
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
  chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
fi
mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  # setpriv execs munged itself, so $! is munged's PID (runuser would sit in between)
  setsid setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged --foreground \
    >"$S/log/munged.out" 2>&1 </dev/null &
  echo $! > "$RUN/munged.pid"
  for _ in $(seq 100); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
fi
munge -n | unmunge >/dev/null
# slurmctld checks the JWTs slurmrestd passes on against this key; `scontrol token` signs with it.
[ -s "$S/etc/jwt_hs256.key" ] || { dd if=/dev/urandom bs=32 count=1 of="$S/etc/jwt_hs256.key" status=none; chmod 600 "$S/etc/jwt_hs256.key"; }
CPN=${CPUS_PER_NODE:-$(( $(nproc) / SLURM_NODES > 0 ? $(nproc) / SLURM_NODES : 1 ))}
{
  cat <<EOF
ClusterName=skydecklab
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$SLURMCTLD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$S/etc/jwt_hs256.key
StateSaveLocation=$S/spool/ctld
SlurmdSpoolDir=$S/spool/d/%n
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd-%n.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=2
MpiDefault=none
SwitchType=switch/none
EOF
  echo "GresTypes=gpu"
  for n in $(seq 1 "$SLURM_NODES"); do
    gres=""; [ "$n" = "$SLURM_NODES" ] && gres=" Gres=gpu:t4:2"
    echo "NodeName=n$n NodeHostname=localhost NodeAddr=127.0.0.$((20 + n)) Port=$((SLURMD_PORT_BASE + n)) CPUs=$CPN RealMemory=2000 TmpDisk=4096$gres State=UNKNOWN"
  done
  echo "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
  echo "PartitionName=gpu Nodes=n$SLURM_NODES MaxTime=INFINITE State=UP"
} > "$S/etc/slurm.conf"
# Slurm reads gres.conf beside slurm.conf. The GPUs are declared, not detected: slurmd counts the
# files named by File= (a GPU without File counts as none), which must be character devices; with
# task/none it binds none of them, so two links to /dev/null stand in for /dev/nvidia0-1. Jobs
# asking for --gres=gpu:t4:N are scheduled and counted as on real hardware.
mkdir -p "$S/dev" && ln -sf /dev/null "$S/dev/nvidia0" && ln -sf /dev/null "$S/dev/nvidia1"
{
  echo "AutoDetect=off"
  echo "NodeName=n$SLURM_NODES Name=gpu Type=t4 File=$S/dev/nvidia[0-1]"
} > "$S/etc/gres.conf"
export SLURM_CONF=$S/etc/slurm.conf
# Node states saved by an earlier lab (a node drained then, under another slurm.conf) are not this lab's.
rm -f "$S"/spool/ctld/node_state*
setsid slurmctld -D -i >"$S/log/slurmctld.out" 2>&1 </dev/null &
echo $! > "$RUN/slurmctld.pid"
for _ in $(seq 100); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.1; done
scontrol ping | grep -q UP
for n in $(seq 1 "$SLURM_NODES"); do
  mkdir -p "$S/spool/d/n$n"
  setsid slurmd -D -N "n$n" >"$S/log/slurmd-n$n.out" 2>&1 </dev/null &
  echo $! > "$RUN/slurmd-n$n.pid"
done
# Per node, not per partition: the GPU node is in two partitions.
idle() { sinfo -h -N -o '%N %t' 2>/dev/null | sort -u | awk '$2=="idle"{s+=1} END{print s+0}'; }
for _ in $(seq 200); do [ "$(idle)" = "$SLURM_NODES" ] && break; sleep 0.1; done
[ "$(idle)" = "$SLURM_NODES" ] || { sinfo; echo "[lab-up] slurmd nodes did not become idle" >&2; exit 1; }
echo "[lab-up] slurm: $SLURM_NODES node(s) idle: $(el "$T2")"

# ---- slurmrestd (JWT) on loopback ----------------------------------------------------------------
# It refuses to run as root (or SlurmUser): it binds as root, then drops to nobody (-u/-g). Its JWT
# plugin only needs SLURM_JWT set to start; the token of each request comes in its headers. The token
# file is never exported as SLURM_JWT where sbatch runs: sbatch would copy it into the job, and srun
# inside would then authenticate to slurmd with JWT, which slurmd rejects.
T3=$(ts)
REST_PORT=${SLURMRESTD_PORT:-$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')}
SLURM_JWT=daemon setsid slurmrestd -s "openapi/v0.0.38" -a rest_auth/jwt -u nobody -g nogroup "127.0.0.1:$REST_PORT" \
  >"$S/log/slurmrestd.out" 2>&1 </dev/null &
echo $! > "$RUN/slurmrestd.pid"
(umask 077 && scontrol token username=root lifespan=86400 | sed 's/^SLURM_JWT=//' | tr -d '\n' > "$S/jwt.token")
ping_rest() { curl -sf -o /dev/null -H "X-SLURM-USER-NAME: root" -H "X-SLURM-USER-TOKEN: $(cat "$S/jwt.token")" "http://127.0.0.1:$REST_PORT/slurm/v0.0.38/ping"; }
for _ in $(seq 100); do ping_rest && break; sleep 0.1; done
ping_rest || { cat "$S/log/slurmrestd.out" >&2; echo "[lab-up] slurmrestd did not answer" >&2; exit 1; }
echo "[lab-up] slurmrestd (JWT) on 127.0.0.1:$REST_PORT: $(el "$T3")"

cat > "$LAB/lab.env" <<EOF
export SKYDECK_LAB=$LAB
export SKYDECK_LAB_SSH_HOSTS="${hosts[*]}"
export SKYDECK_LAB_SSH_USER=$LAB_USER
export SKYDECK_LAB_SSH_KEY=$K/id_ed25519
export SKYDECK_LAB_SLURM_CONF=$S/etc/slurm.conf
export SKYDECK_LAB_SLURM_NODES=$SLURM_NODES
export SKYDECK_LAB_SLURM_ADDRS="$(for n in $(seq 1 "$SLURM_NODES"); do printf '127.0.0.%s ' $((20 + n)); done | sed 's/ $//')"
export SKYDECK_LAB_SLURM_CPUS=$CPN
export SKYDECK_LAB_SLURM_GPU_NODE=n$SLURM_NODES
export SKYDECK_LAB_SLURMRESTD_URL=http://127.0.0.1:$REST_PORT
export SKYDECK_LAB_SLURM_JWT_FILE=$S/jwt.token
EOF
echo "[lab-up] ready in $(el "$T0") -> source $LAB/lab.env"
