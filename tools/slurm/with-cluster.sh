#!/usr/bin/env bash
# Run a command on a one-node SLURM cluster started for it on this machine, then stop it.
#
#   sudo tools/slurm/with-cluster.sh COMMAND [ARG...]
#
# For `make test-slurm` (the workflow through snakemake-executor-plugin-slurm, compared
# byte for byte with a local run), on a Debian or Ubuntu machine, as root:
#   1. installs slurm-wlm and munge with apt-get when one of the commands it uses
#      (COMMANDS below) is missing;
#   2. writes the configuration (slurm.conf, a MUNGE key), state, spool and logs into a
#      fresh temporary directory: nothing under /etc, /var or /run is read or changed;
#   3. starts munged (on its own socket), slurmctld and slurmd in the foreground, on
#      free ports (6817 and 6818 or the next free pair), and waits until the node is
#      idle (HIMO_SLURM_WAIT seconds at most, default 60);
#   4. runs COMMAND with SLURM_CONF naming the cluster's slurm.conf, so that sbatch,
#      squeue and scancel talk to it, and with an srun first on PATH that names it too
#      (below, "srun inside a job"); the exit status is COMMAND's;
#   5. on exit, failure or interruption: stops COMMAND if it still runs (its own process
#      group, which the script started it in), cancels the jobs still known to the
#      cluster, stops exactly the daemons it started, by their process ids (TERM, then
#      KILL after 10 s), prints the end of their logs if anything failed, and removes
#      the directory.
#
# The cluster: the node as `slurmd -C` reports it (all its CPUs and memory), one
# partition, jobs run as root; ProctrackType=proctrack/linuxproc and TaskPlugin=task/none
# (no cgroups needed), no accounting database (AccountingStorageType=accounting_storage/none:
# sacct has nothing, so query job states with squeue), and MinJobAge at its maximum so
# that squeue reports finished jobs for 18 hours.
set -euo pipefail

readonly WAIT_SECONDS="${HIMO_SLURM_WAIT:-60}"
readonly STOP_SECONDS=10
readonly PACKAGES=(slurm-wlm munge)
readonly COMMANDS=(slurmctld slurmd munged sbatch srun squeue sinfo scancel)

log() { echo "with-cluster: $*" >&2; }
die() { log "error: $*"; exit 2; }

[[ $# -ge 1 ]] || die "usage: $0 COMMAND [ARG...]"
[[ "$(id -u)" -eq 0 ]] || die "must run as root (slurmd runs the jobs; try: sudo $0 $*)"

# ---------------------------------------------------------------- packages
missing_commands() {
    local name
    for name in "${COMMANDS[@]}"; do
        command -v "$name" >/dev/null 2>&1 || echo "$name"
    done
}

if [[ -n "$(missing_commands)" ]]; then
    command -v apt-get >/dev/null 2>&1 \
        || die "missing $(missing_commands | tr '\n' ' ')and no apt-get to install ${PACKAGES[*]}"
    log "installing ${PACKAGES[*]} (missing: $(missing_commands | tr '\n' ' '))"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
    [[ -z "$(missing_commands)" ]] || die "still missing after installing: $(missing_commands | tr '\n' ' ')"
fi

# ---------------------------------------------------------------- cleanup
DIR=""
DAEMON_PIDS=()    # in the order started; stopped in reverse
DAEMON_NAMES=()
COMMAND_PID=""    # while COMMAND runs: its pid, which is also its process group's id

is_running() { kill -0 -- "$1" 2>/dev/null; }   # a pid, or -PGID: a process group

stop() {   # stop TARGET NAME: TERM, wait, then KILL; TARGET is a pid or -PGID we started
    local target=$1 name=$2 waited=0
    is_running "$target" || return 0
    kill -TERM -- "$target" 2>/dev/null || true
    while is_running "$target" && (( waited < STOP_SECONDS * 10 )); do
        sleep 0.1; waited=$(( waited + 1 ))
    done
    if is_running "$target"; then
        log "$name ($target) still running after ${STOP_SECONDS} s: KILL"
        kill -KILL -- "$target" 2>/dev/null || true
    fi
    wait "${target#-}" 2>/dev/null || true
}

unfinished_jobs() { squeue -h -t PENDING,RUNNING,CONFIGURING,COMPLETING -o %i 2>/dev/null; }

cleanup() {
    local status=$? i
    trap - EXIT INT TERM
    set +e
    if [[ -n "$COMMAND_PID" ]]; then
        log "stopping the command (process group $COMMAND_PID)"
        stop "-$COMMAND_PID" "the command"
    fi
    if [[ ${#DAEMON_PIDS[@]} -ge 2 ]] && is_running "${DAEMON_PIDS[1]}"; then  # slurmctld
        # The jobs of this cluster only: SLURM_CONF names its slurm.conf.
        local unfinished waited=0
        unfinished=$(unfinished_jobs)
        if [[ -n "$unfinished" ]]; then
            log "cancelling unfinished jobs: $(echo $unfinished)"
            scancel $unfinished
            while [[ -n "$(unfinished_jobs)" ]] && (( waited < STOP_SECONDS * 10 )); do
                sleep 0.1; waited=$(( waited + 1 ))
            done
        fi
    fi
    for (( i = ${#DAEMON_PIDS[@]} - 1; i >= 0; i-- )); do
        stop "${DAEMON_PIDS[i]}" "${DAEMON_NAMES[i]}"
    done
    if [[ -n "$DIR" && -d "$DIR" ]]; then
        if (( status != 0 )); then
            local file
            for file in "$DIR"/log/*.log; do
                [[ -s "$file" ]] || continue
                log "last lines of $(basename "$file"):"
                tail -n 15 "$file" >&2
            done
        fi
        rm -rf -- "$DIR"
    fi
    [[ ${#DAEMON_PIDS[@]} -eq 0 ]] || log "stopped ${DAEMON_NAMES[*]} (pids ${DAEMON_PIDS[*]})"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_daemon() {  # start_daemon NAME COMMAND...: in the background, foreground mode, in a
    local name=$1; shift  # session of its own, so that a signal to this script's process
    setsid "$@" >"$DIR/log/$name.out" 2>&1 &  # group (make, timeout) reaches the cleanup first
    DAEMON_PIDS+=("$!")
    DAEMON_NAMES+=("$name")
    sleep 0.5
    is_running "$!" || die "$name exited at once: $(tail -n 5 "$DIR/log/$name.out")"
}

# ---------------------------------------------------------------- configuration
DIR=$(mktemp -d "${TMPDIR:-/tmp}/himo-slurm.XXXXXX")
chmod 0700 "$DIR"
mkdir -m 0700 "$DIR/munge" "$DIR/state" "$DIR/spool" "$DIR/log"

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
CTLD_PORT=6817
while port_in_use "$CTLD_PORT" || port_in_use $(( CTLD_PORT + 1 )); do
    CTLD_PORT=$(( CTLD_PORT + 2 ))
    (( CTLD_PORT < 6917 )) || die "no free pair of ports in 6817-6917"
done
SLURMD_PORT=$(( CTLD_PORT + 1 ))

NODE=$(hostname -s)
# e.g. "NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105"
NODE_LINE=$(slurmd -C | grep '^NodeName=' | head -n 1)
[[ -n "$NODE_LINE" ]] || die "slurmd -C reported no node"
NODE_LINE="NodeName=$NODE ${NODE_LINE#* }"

head -c 1024 /dev/urandom >"$DIR/munge/munge.key"
chmod 0400 "$DIR/munge/munge.key"
MUNGE_SOCKET="$DIR/munge/munge.socket"

export SLURM_CONF="$DIR/slurm.conf"
cat >"$SLURM_CONF" <<EOF
# One-node test cluster of tools/slurm/with-cluster.sh.
ClusterName=himo-test
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
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
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MinJobAge=65533
ReturnToService=2
$NODE_LINE NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

# srun inside a job. snakemake-executor-plugin-slurm-jobstep runs each job's command
# through srun with every SLURM_* variable but the allocation's identity removed,
# SLURM_CONF included, so that srun looks for its configuration where it was built to
# (/etc/slurm/slurm.conf, or a configless cluster's controller found by DNS): where a
# real cluster keeps it. This cluster's configuration stays in $DIR, nothing under /etc
# changes: its srun is this wrapper, first on PATH (which the jobs inherit), naming it.
REAL_SRUN=$(command -v srun)
mkdir -m 0700 "$DIR/bin"
cat >"$DIR/bin/srun" <<EOF
#!/usr/bin/env bash
# srun of the test cluster of tools/slurm/with-cluster.sh: its configuration, whatever the environment.
SLURM_CONF=$(printf %q "$SLURM_CONF") exec $(printf %q "$REAL_SRUN") "\$@"
EOF
chmod 0755 "$DIR/bin/srun"
export PATH="$DIR/bin:$PATH"

# ---------------------------------------------------------------- daemons
start_daemon munged munged --foreground --force --key-file="$DIR/munge/munge.key" \
    --socket="$MUNGE_SOCKET" --pid-file="$DIR/munge/munged.pid" \
    --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munged.seed"
start_daemon slurmctld slurmctld -D -f "$SLURM_CONF"
start_daemon slurmd slurmd -D -N "$NODE" -f "$SLURM_CONF"

waited=0
until [[ "$(sinfo -h -N -n "$NODE" -o %t 2>/dev/null)" == "idle" ]]; do
    for i in "${!DAEMON_PIDS[@]}"; do
        is_running "${DAEMON_PIDS[i]}" || die "${DAEMON_NAMES[i]} stopped while starting"
    done
    (( waited < WAIT_SECONDS )) || die "node $NODE not idle after ${WAIT_SECONDS} s: $(sinfo -h -N -o '%N %t %E' 2>&1)"
    sleep 1; waited=$(( waited + 1 ))
done
log "cluster up in ${waited} s: node $NODE idle ($(sinfo -h -N -n "$NODE" -o '%c CPUs, %m MB')), ports $CTLD_PORT/$SLURMD_PORT, SLURM_CONF=$SLURM_CONF"

# ---------------------------------------------------------------- the command
# In a process group of its own (setsid), waited for in the background, so that an
# interruption reaches the trap at once and the cleanup can stop the command's whole
# tree (e.g. snakemake under make test-slurm's script) by that group's id; stdin is
# passed on (a background command would otherwise read /dev/null).
setsid "$@" <&0 &
COMMAND_PID=$!
set +e
wait "$COMMAND_PID"
status=$?
set -e
COMMAND_PID=""
exit "$status"
