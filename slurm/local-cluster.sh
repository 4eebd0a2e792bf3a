#!/usr/bin/env bash
# A real Slurm cluster of three nodes on this one host, for trying `colony experiment submit` and for the tests.
#
#   slurm/local-cluster.sh up       install slurm-wlm and munge when missing, start munged, slurmctld and slurmd ×3
#   slurm/local-cluster.sh down     cancel the cluster's jobs and stop every daemon `up` started
#   slurm/local-cluster.sh status   sinfo and squeue of the cluster
#   slurm/local-cluster.sh is-up    exit status 0 when the cluster answers, 1 otherwise (quiet)
#   slurm/local-cluster.sh env      print the line that points Slurm's clients at the cluster
#
# Everything lives in $COLONY_SLURM_DIR (default /tmp/colony-slurm), not in the repository: slurm.conf, logs,
# spool and state. Clients find the cluster through SLURM_CONF (without it they look up DNS and fail):
#   export SLURM_CONF=/tmp/colony-slurm/slurm.conf
#
# Nodes node1..node3 all run on this host (NodeHostname = `hostname`, one slurmd per node on ports 6821-6823).
# Each node claims COLONY_SLURM_CPUS CPUs (default 2), so on a 2-core machine the cluster runs six 1-CPU tasks
# on two cores: deliberately oversubscribed, to exercise scheduling, throttling and requeueing, not to be fast.
# Needs root (it installs packages and runs the daemons as root).
set -euo pipefail

DIR="${COLONY_SLURM_DIR:-/tmp/colony-slurm}"
CONF="$DIR/slurm.conf"
CTLD_PORT="${COLONY_SLURM_PORT:-6817}"
NODE_PORTS="${COLONY_SLURM_NODE_PORTS:-6821-6823}"
CPUS="${COLONY_SLURM_CPUS:-2}"
NODES=(node1 node2 node3)
export SLURM_CONF="$CONF"

say() { echo "local-cluster: $*"; }
die() { echo "local-cluster: error: $*" >&2; exit 1; }

# A daemon recorded in a pid file is ours and alive (/proc, not kill -0: that needs root for root's daemons).
alive() { [ -s "$1" ] && [ -d "/proc/$(cat "$1")" ]; }

install_packages() {
    local missing=()
    command -v slurmctld >/dev/null || missing+=(slurmctld)
    command -v slurmd >/dev/null || missing+=(slurmd)
    command -v sbatch >/dev/null || missing+=(slurm-client)
    command -v munged >/dev/null || missing+=(munge)
    [ ${#missing[@]} -eq 0 ] && return
    [ "$(id -u)" = 0 ] || die "slurm is not installed and installing it needs root: apt-get install slurm-wlm munge"
    say "installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq slurm-wlm munge >/dev/null
}

# Starts a daemon holding nothing of its caller's open: a caller that reads our output to its end, or
# watches a descriptor to learn that we exited (Foundation's Process does both), would otherwise wait
# for as long as the daemon lives.
detached() {
    (
        for fd in /proc/$BASHPID/fd/*; do
            fd=${fd##*/}
            if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
        done
        exec "$@"
    ) </dev/null >/dev/null 2>&1
}

munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
    if munge_works; then return; fi
    if [ ! -s /etc/munge/munge.key ]; then
        say "creating /etc/munge/munge.key"
        mungekey --create --keyfile=/etc/munge/munge.key
        chown munge:munge /etc/munge/munge.key
        chmod 0400 /etc/munge/munge.key
    fi
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    chmod 0755 /run/munge
    # munged refuses to run as root; its own user owns the key and the socket directory.
    detached runuser -u munge -- munged --pid-file=/run/munge/munged.pid
    echo "$(cat /run/munge/munged.pid)" > "$DIR/munged.pid"  # ours: `down` stops it
    for _ in $(seq 50); do munge_works && return; sleep 0.1; done
    die "munged did not start (see /var/log/munge/munged.log)"
}

write_config() {
    local host memory
    host="$(hostname)"
    memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 ))
    mkdir -p "$DIR/log" "$DIR/state" "$DIR/spool"
    for node in "${NODES[@]}"; do mkdir -p "$DIR/spool/$node"; done
    cat > "$CONF" <<EOF
# Written by slurm/local-cluster.sh: three nodes on one host ($host) for Colony's tests and demos.
ClusterName=colony
SlurmctldHost=$host
SlurmctldPort=$CTLD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/state
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdSpoolDir=$DIR/spool/%n
SlurmdPidFile=$DIR/slurmd.%n.pid
SlurmdLogFile=$DIR/log/slurmd.%n.log
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
# Finished jobs leave squeue after MinJobAge seconds: short here, so that \`colony experiment status\`
# is exercised on jobs that have left the queue (the default, 300, is what real clusters use).
MinJobAge=10
SchedulerParameters=sched_interval=2
# A requeued job waits cred_expire seconds before it may start again (120 by default); 10 keeps the
# requeue-and-resume cycle of the tests short. Step credentials on one host need no more.
AuthInfo=cred_expire=10
KillWait=30
MaxArraySize=1001
NodeName=node[1-3] NodeHostname=$host Port=$NODE_PORTS CPUs=$CPUS RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=node[1-3] Default=YES MaxTime=INFINITE State=UP
EOF
}

answers() { timeout 10 sinfo --noheader >/dev/null 2>&1; }

is_up() { alive "$DIR/slurmctld.pid" && answers; }

wait_for_nodes() {
    for _ in $(seq 120); do
        local idle
        idle=$(sinfo --noheader --nodes="node[1-3]" --format="%t %D" 2>/dev/null | awk '$1 ~ /^(idle|mix|alloc)/ {n += $2} END {print n + 0}')
        [ "$idle" -ge ${#NODES[@]} ] && return
        sleep 0.5
    done
    sinfo >&2 || true
    die "nodes did not come up; see $DIR/log/"
}

up() {
    if is_up; then
        say "already up ($CONF)"
        print_env
        return
    fi
    [ "$(id -u)" = 0 ] || die "the local cluster runs its daemons as root; run as root"
    install_packages
    mkdir -p "$DIR"
    start_munge
    write_config
    # A controller that died leaves its pid file; a stale one is harmless, a live foreign one is not ours to start over.
    alive "$DIR/slurmctld.pid" || detached slurmctld -f "$CONF"
    for _ in $(seq 100); do answers && break; sleep 0.2; done
    answers || die "slurmctld did not answer; see $DIR/log/slurmctld.log"
    for node in "${NODES[@]}"; do
        alive "$DIR/slurmd.$node.pid" || detached slurmd -f "$CONF" -N "$node"
    done
    wait_for_nodes
    # Nodes that were down when the controller last stopped come back on registration (ReturnToService=2);
    # resuming them explicitly covers a node drained by an earlier run.
    scontrol update nodename="node[1-3]" state=resume >/dev/null 2>&1 || true
    say "up: ${#NODES[@]} nodes × $CPUS CPUs on $(hostname), files in $DIR"
    print_env
}

stop_pidfile() {
    local file="$1" name="$2"
    alive "$file" || { rm -f "$file"; return; }
    local pid
    pid=$(cat "$file")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        say "$name ($pid) did not stop on SIGTERM; sending SIGKILL"
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
}

down() {
    if answers; then
        # Jobs first: slurmstepd outlives slurmd, so a job still running would keep its processes after `down`.
        scancel --full "--user=$(id -un)" >/dev/null 2>&1 || true
        for _ in $(seq 80); do
            [ -z "$(squeue --noheader --states=RUNNING,COMPLETING,CONFIGURING 2>/dev/null)" ] && break
            sleep 0.5
        done
    fi
    for node in "${NODES[@]}"; do stop_pidfile "$DIR/slurmd.$node.pid" "slurmd $node"; done
    stop_pidfile "$DIR/slurmctld.pid" slurmctld
    stop_pidfile "$DIR/munged.pid" munged
    say "down"
}

status() {
    if ! is_up; then say "down (no controller answers for $CONF)"; return 3; fi
    sinfo
    echo
    squeue
}

print_env() { echo "export SLURM_CONF=$CONF"; }

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) status ;;
    is-up) is_up ;;
    env) print_env ;;
    *) echo "usage: $0 up|down|status|is-up|env   (files in \$COLONY_SLURM_DIR, default /tmp/colony-slurm)" >&2; exit 2 ;;
esac
