#!/usr/bin/env bash
# qrsim sweep --slurm on a real one-node Slurm cluster started here: munged, slurmctld and
# slurmd on localhost, as root, on non-default ports, with every key, socket, state, spool,
# pid and log file in a temporary folder (nothing in /etc is touched). Runs the smoke sweep
# through `sbatch --array` and checks its reports equal those of a local run (timing aside:
# results are deterministic for a given seed and thread count). The daemons are stopped by
# their PIDs when the script exits, whatever happens.
#
# Needs root and Debian's slurm-wlm + munge (scripts/setup installs them); installs nothing.
# Usage: scripts/test_slurm.sh QRSIM_BINARY SOURCE_DIR      (ctest: label `slurm`)
set -euo pipefail
qrsim=$(realpath "$1")
src=$(realpath "$2")
python=/usr/bin/python3
ctld_port=${QRSIM_SLURMCTLD_PORT:-16817}
slurmd_port=${QRSIM_SLURMD_PORT:-16818}

fail() { echo "test_slurm.sh: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || fail "must run as root (slurmd runs the test's jobs as root)"
for tool in munged slurmctld slurmd sbatch squeue scancel sinfo; do
    command -v "$tool" >/dev/null || fail "$tool not found: install slurm-wlm and munge (scripts/setup)"
done

tmp=$(mktemp -d /tmp/qrsim-slurm.XXXXXX)
host=$(hostname -s)
export SLURM_CONF=$tmp/slurm.conf  # for the daemons, sbatch/squeue/scancel and qrsim's calls of them
export QRSIM_SOURCE_DIR=$src

pid_of() { [[ -s $1 ]] && cat "$1" || true; }
stop_daemons() {
    local code=$?
    # Jobs first (their slurmstepd would outlive slurmd), then the daemons, each by its PID.
    squeue -h -o %i 2>/dev/null | xargs -r scancel 2>/dev/null || true
    local pids=()
    for f in "$tmp/slurmd.pid" "$tmp/slurmctld.pid" "$tmp/munge/munged.pid"; do
        local pid
        pid=$(pid_of "$f")
        [[ -n $pid ]] && kill "$pid" 2>/dev/null && pids+=("$pid")
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    done
    if [[ $code -ne 0 ]]; then
        for log in slurmctld.log slurmd.log munge/munged.log; do
            [[ -f $tmp/$log ]] && { echo "--- $log (last lines)"; tail -n 15 "$tmp/$log"; } >&2
        done
    fi
    rm -rf "$tmp"
    exit "$code"
}
trap stop_daemons EXIT

# munge: a fresh key and its own socket.
mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool"
chmod 700 "$tmp/munge"
head -c 1024 /dev/urandom >"$tmp/munge/munge.key"
chmod 400 "$tmp/munge/munge.key"
munged --force --key-file="$tmp/munge/munge.key" --socket="$tmp/munge/munge.socket" \
    --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/munge/munged.log" --seed-file="$tmp/munge/munged.seed"

cpus=$(nproc)
mem_mb=$(awk '/MemAvailable/ {print int($2 / 1024 / 2)}' /proc/meminfo)
cat >"$SLURM_CONF" <<EOF
ClusterName=qrsimtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge/munge.socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MailProg=/bin/true
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 NodeHostname=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=qrsim Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -c
slurmd
for i in $(seq 60); do
    state=$(sinfo -h -o %T 2>/dev/null || true)
    [[ $state == idle ]] && break
    [[ $i -eq 60 ]] && fail "the node did not become idle in 30 s (sinfo: ${state:-no answer})"
    sleep 0.5
done
echo "slurm: node $host idle ($cpus CPUs), controller on port $ctld_port"

spec=$src/configs/sweeps/smoke.toml
"$qrsim" sweep "$spec" --out "$tmp/local" --jobs 2 >/dev/null 2>"$tmp/local.err" \
    || { cat "$tmp/local.err" >&2; fail "local sweep failed"; }
start=$(date +%s)
"$qrsim" sweep "$spec" --out "$tmp/slurm" --slurm 2>"$tmp/slurm.err" >/dev/null \
    || { cat "$tmp/slurm.err" >&2; cat "$tmp"/slurm/slurm/task_*.out >&2 2>/dev/null || true; fail "slurm sweep failed"; }
echo "slurm: sweep of 4 points through sbatch --array took $(($(date +%s) - start)) s"
grep -q 'submitted Slurm job' "$tmp/slurm.err" || fail "no job submitted"

# Resubmitting a finished sweep submits nothing.
"$qrsim" sweep "$spec" --out "$tmp/slurm" --slurm 2>"$tmp/again.err" >/dev/null
grep -q 'already done' "$tmp/again.err" || { cat "$tmp/again.err" >&2; fail "a finished sweep was resubmitted"; }

"$qrsim" report "$tmp/local" --no-plots >/dev/null
"$qrsim" report "$tmp/slurm" --no-plots >/dev/null
"$python" - "$tmp" <<'PY'
import csv, glob, sys
tmp = sys.argv[1]
timing = {"train_samples_per_s", "wall_time_s"}
def table(path):
    return sorted(tuple((k, v) for k, v in r.items() if k not in timing) for r in csv.DictReader(open(path)))
local, slurm = table(f"{tmp}/local/sweep.csv"), table(f"{tmp}/slurm/sweep.csv")
assert len(local) == 4, local
assert local == slurm, f"Slurm reports differ from the local run:\n{local}\n{slurm}"
outputs = glob.glob(f"{tmp}/slurm/slurm/task_*.out")
assert len(outputs) == 4, outputs
print("slurm ok: 4 points through sbatch --array, reports equal the local run's")
PY
