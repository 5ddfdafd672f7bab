#!/usr/bin/env bash
# Make this machine a one-node Slurm cluster for the tests (tests/hpc): the host is both controller and compute
# node, the way the SLURM test submits the sbatch script of deploy/slurm/ and checks that scancel leaves nothing.
#   - from Debian's packages, when missing: slurm-wlm, munge, bubblewrap (the no-Docker sandbox);
#   - a munge key, when missing; munged;
#   - /etc/slurm/slurm.conf for this host (ProctrackType=proctrack/linuxproc, TaskPlugin=task/none: no cgroup
#     plugins needed), then slurmctld and slurmd as root.
# Idempotent: a second run installs, writes and starts nothing that is already there and answering.
# Needs root. Prints nothing on success but the partition line of `sinfo`.
set -euo pipefail

log() { echo "slurm-up: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
  log "needs root (it installs packages and starts munged, slurmctld and slurmd)"
  exit 1
fi

missing=()
command -v slurmctld >/dev/null 2>&1 || missing+=(slurm-wlm)
command -v munged >/dev/null 2>&1 || missing+=(munge)
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# munge: a key readable by the munge user only, and the daemon.
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
if ! munge -n >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 1 50); do munge -n >/dev/null 2>&1 && break; sleep 0.1; done
fi

# slurm.conf for this host: every core and most of the memory of the machine, one partition.
host=$(hostname -s)
cpus=$(nproc)
memory_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
conf=/etc/slurm/slurm.conf
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
wanted=$(cat <<EOF
# Written by rewardgym's scripts/slurm-up.sh: a one-node cluster on this host.
ClusterName=rewardgym
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
KillWait=5
NodeName=$host CPUs=$cpus RealMemory=$memory_mb State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF
)
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$wanted" ]; then
  printf '%s\n' "$wanted" >"$conf"
  pkill -x slurmctld 2>/dev/null || true
  pkill -x slurmd 2>/dev/null || true
  sleep 1
fi

pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld
pgrep -x slurmd >/dev/null || /usr/sbin/slurmd

for _ in $(seq 1 100); do
  state=$(sinfo -h -N -o '%T' 2>/dev/null | head -n 1 || true)
  case "$state" in
    idle*|mixed*|allocated*) sinfo -h -o '%P %a %D %T'; exit 0 ;;
    down*|drain*) scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true ;;
  esac
  sleep 0.2
done
log "the node did not become idle; see /var/log/slurm/slurmctld.log and /var/log/slurm/slurmd.log"
sinfo >&2 || true
tail -n 20 /var/log/slurm/slurmd.log >&2 || true
exit 1
