#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the end-to-end tests of
# `lossbench slurm`, `merge` and `status` (tests/e2e/slurm.rs) and for
# trying the cluster commands by hand.
#
#   scripts/slurm-local.sh start    install slurm-wlm and munge from Debian when
#                                   missing, write a one-node slurm.conf, start
#                                   munged, slurmctld and slurmd
#   scripts/slurm-local.sh stop     stop the daemons this script started
#   scripts/slurm-local.sh status   say whether a cluster answers
#
# Idempotent: `start` does nothing when a cluster already answers (`sinfo`),
# and starts only the daemons that are not running; `stop` stops only the
# daemons whose pid files it wrote. Needs root (apt-get, the daemons) and,
# for the install, the Debian mirror; nothing else from the network.
#
# The node is this machine (its short hostname), with the CPUs `nproc`
# reports and half of its memory (so the scheduler never over-commits a
# machine that also runs the build). Jobs run as the user who submits them.
# State, logs and pid files live under $LOSSBENCH_SLURM_DIR (default
# /var/tmp/lossbench-slurm); slurm.conf goes to /etc/slurm/slurm.conf, the
# place Debian's tools read it from, and is only written when it is absent
# or was written by this script.
set -euo pipefail

DIR=${LOSSBENCH_SLURM_DIR:-/var/tmp/lossbench-slurm}
CONF=/etc/slurm/slurm.conf
MARK="# written by lossbench scripts/slurm-local.sh"

say() { echo "slurm-local: $*" >&2; }

need_root() {
    if [[ $(id -u) -ne 0 ]]; then
        say "needs root (apt-get and the Slurm daemons); run it with sudo"
        exit 1
    fi
}

answers() {
    command -v sinfo >/dev/null 2>&1 && timeout 10 sinfo -h >/dev/null 2>&1
}

install() {
    local missing=()
    command -v slurmctld >/dev/null 2>&1 || missing+=(slurm-wlm)
    command -v munged >/dev/null 2>&1 || missing+=(munge)
    [[ ${#missing[@]} -eq 0 ]] && return 0
    say "installing ${missing[*]} from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

write_conf() {
    if [[ -f $CONF ]] && ! grep -qF "$MARK" "$CONF"; then
        say "keeping the existing $CONF (not written by this script)"
        return 0
    fi
    local host cpus mem_mb
    host=$(hostname -s)
    cpus=$(nproc)
    mem_mb=$(awk '/^MemTotal:/ {print int($2 / 1024 / 2)}' /proc/meminfo)
    mkdir -p /etc/slurm "$DIR/state" "$DIR/spool" "$DIR/log"
    cat >"$CONF.tmp" <<EOF
$MARK
ClusterName=lossbench
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerParameters=defer_batch
KillWait=5
MinJobAge=600
NodeName=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    mv "$CONF.tmp" "$CONF"
}

# Starts a daemon unless its pid file names a live process; records that
# this script started it.
start_daemon() {
    local name=$1 pidfile=$2
    shift 2
    if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        return 0
    fi
    "$@"
    touch "$DIR/started-$name"
}

start() {
    if answers; then
        say "a Slurm cluster already answers; nothing to do"
        return 0
    fi
    need_root
    install
    write_conf
    mkdir -p "$DIR" /run/munge /var/log/munge /var/lib/munge /etc/munge
    if [[ ! -s /etc/munge/munge.key ]]; then
        if command -v mungekey >/dev/null 2>&1; then
            mungekey --create --keyfile=/etc/munge/munge.key
        else
            dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
        fi
    fi
    chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge
    chmod 0700 /etc/munge
    chmod 0400 /etc/munge/munge.key
    start_daemon munged /run/munge/munged.pid \
        runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
    start_daemon slurmctld "$DIR/slurmctld.pid" /usr/sbin/slurmctld
    start_daemon slurmd "$DIR/slurmd.pid" /usr/sbin/slurmd
    local i
    for i in $(seq 1 60); do
        if answers && [[ -n $(sinfo -h -N -t idle,mix,alloc -o %N 2>/dev/null) ]]; then
            say "cluster up: $(sinfo -h -o '%P %D %C %T' | head -n1)"
            return 0
        fi
        sleep 0.5
    done
    say "the cluster did not come up; logs in $DIR/log"
    tail -n 20 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true
    exit 1
}

stop_daemon() {
    local name=$1 pidfile=$2
    [[ -f "$DIR/started-$name" ]] || return 0
    if [[ -f $pidfile ]]; then
        local pid
        pid=$(cat "$pidfile")
        if kill "$pid" 2>/dev/null; then
            local i
            for i in $(seq 1 40); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.25
            done
        fi
    fi
    rm -f "$DIR/started-$name"
}

stop() {
    compgen -G "$DIR/started-*" >/dev/null || return 0
    need_root
    # In reverse order of starting.
    stop_daemon slurmd "$DIR/slurmd.pid"
    stop_daemon slurmctld "$DIR/slurmctld.pid"
    stop_daemon munged /run/munge/munged.pid
}

case ${1:-} in
start) start ;;
stop) stop ;;
status)
    if answers; then
        sinfo
    else
        say "no Slurm cluster answers"
        exit 1
    fi
    ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
