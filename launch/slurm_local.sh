#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for the sweep tests and for trying
# `launch.sweep --executor=slurm` before a real cluster:
#   sudo launch/slurm_local.sh          # install (Debian/Ubuntu apt), configure, start
#   launch/slurm_local.sh stop          # stop the daemons
# It installs slurmctld, slurmd, the client commands and munge when they are
# missing, writes /etc/slurm/slurm.conf for one node (this host, every core, a
# partition named `local`), starts munged, slurmctld and slurmd without systemd
# (containers often have none) and waits until the node answers. Idempotent:
# a second call finds the cluster up and leaves it. Needs root.
set -euo pipefail

if [ "${1:-start}" = stop ]; then
  pkill -x slurmd || true
  pkill -x slurmctld || true
  pkill -x munged || true
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "launch/slurm_local.sh: run it as root (it installs packages and starts daemons)" >&2
  exit 2
fi
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null \
    || { apt-get update -q >/dev/null && \
         apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null; }
fi

node=$(hostname -s)
cpus=$(nproc)
memory_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
cat > /etc/slurm/slurm.conf <<EOF
# Written by launch/slurm_local.sh: one node, this host.
ClusterName=dlcourse
SlurmctldHost=${node}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
# No cgroups in a container: processes are tracked by their parent ids.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
# A job that asks to be requeued (a preempted sweep task) may start again at once.
JobRequeue=1
KillWait=30
NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${memory_mb} State=UNKNOWN
PartitionName=local Nodes=${node} Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF

if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
chmod 0700 /etc/munge
chmod 0400 /etc/munge/munge.key
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged
pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld
pgrep -x slurmd >/dev/null || /usr/sbin/slurmd

for _ in $(seq 60); do
  state=$(sinfo --noheader --nodes="${node}" --format=%T 2>/dev/null || true)
  case "$state" in
    idle*|mixed*|allocated*) echo "SLURM up: node ${node} (${cpus} CPUs) ${state}, partition local"; exit 0 ;;
    down*|drain*) scontrol update nodename="${node}" state=resume 2>/dev/null || true ;;
  esac
  sleep 1
done
echo "launch/slurm_local.sh: the node did not come up in 60 s; see /var/log/slurm/" >&2
exit 1
