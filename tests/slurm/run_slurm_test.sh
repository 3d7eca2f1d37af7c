#!/usr/bin/env bash
# `make test-slurm`: the workflow through snakemake-executor-plugin-slurm on a real, throw-away,
# single-node SLURM (Debian's slurm-wlm and munge), as root. Not part of `make test` (pytest does
# not collect shell scripts).
#
#  1. installs slurm-wlm and munge if missing;
#  2. starts munged (private key and socket), slurmctld and slurmd by hand, with a generated
#     /etc/slurm/slurm.conf (the plugin's job step drops SLURM_CONF, so it must sit there; an
#     existing one is backed up and restored): no accounting, no cgroups, the machine's CPUs and
#     memory as one node;
#  3. runs the embedded waves in a copy of the project, locally and then with
#     `snakemake --workflow-profile workflow/profiles/slurm`, checks that every job was a SLURM
#     job that completed, and that both runs wrote the same bytes (every output but the logs);
#  4. runs a copy whose raw data hold a code missing from the codebook: the SLURM run must fail,
#     with the rule's message;
#  5. stops the daemons by their pid files and restores slurm.conf, also when a check fails.
#
# Environment: PREVALENCE_SLURM_TIMEOUT (seconds for one workflow run, default 600),
# PREVALENCE_SLURM_KEEP=1 keeps the temporary folder (copies, logs, daemons' state).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOT/.venv/bin
RUN_TIMEOUT=${PREVALENCE_SLURM_TIMEOUT:-600}
CONF=/etc/slurm/slurm.conf
BACKUP=/etc/slurm/slurm.conf.before-prevalence-test
START=$SECONDS

say() { echo "test-slurm: $*"; }
fail() {
  echo "test-slurm: FAILED: $*" >&2
  exit 1
}

[ "$(id -u)" = 0 ] || fail "run as root: it installs packages and starts the SLURM daemons"
[ -x "$BIN/snakemake" ] || fail "no $BIN/snakemake: run 'make' first (make test-slurm does)"
"$BIN/python" -c 'import snakemake_executor_plugin_slurm' 2>/dev/null ||
  fail "snakemake-executor-plugin-slurm is not installed in .venv (it is in requirements.lock)"

# --- 1. packages -------------------------------------------------------------------------------
need=()
for cmd in slurmctld slurmd sbatch squeue munged mungekey; do
  command -v "$cmd" >/dev/null || need=(slurm-wlm munge)
done
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" \
    >/dev/null
fi
# (a munged already running is no matter: this test's munged has its own key and socket)
for daemon in slurmctld slurmd; do
  if [ -n "$(pgrep -x "$daemon" || true)" ]; then
    fail "a $daemon is already running on this machine; this test starts its own SLURM"
  fi
done

# --- cleanup, whatever happens from here on ----------------------------------------------------
WORK=$(mktemp -d /tmp/prevalence-slurm.XXXXXX)
chmod 755 "$WORK" # munged runs as user munge and needs to reach its folder
STATE=$WORK/cluster
CONF_WRITTEN=0
RUN_PID=

stop_pidfile() { # name pidfile: SIGTERM the pid it holds, wait, SIGKILL if needed
  local name=$1 pidfile=$2 pid
  [ -s "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  echo "test-slurm: $name (pid $pid) ignored SIGTERM: SIGKILL" >&2
  kill -9 "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  set +e
  trap - EXIT INT TERM
  if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then
    kill -TERM "$RUN_PID" 2>/dev/null
    wait "$RUN_PID" 2>/dev/null
  fi
  if [ -s "$STATE/slurmctld.pid" ] && kill -0 "$(cat "$STATE/slurmctld.pid")" 2>/dev/null; then
    # this throw-away cluster holds only this test's jobs
    left=$(squeue -h -o %i 2>/dev/null)
    if [ -n "$left" ]; then
      # shellcheck disable=SC2086
      scancel $left 2>/dev/null
      for _ in $(seq 30); do
        [ -z "$(squeue -h -t PD,R,CG -o %i 2>/dev/null)" ] && break
        sleep 1
      done
    fi
  fi
  if [ $status -ne 0 ]; then
    for log in "$STATE/slurmctld.log" "$STATE/slurmd.log" "$STATE/munge/munged.log"; do
      [ -s "$log" ] && { echo "--- last lines of $log" >&2; tail -n 15 "$log" >&2; }
    done
  fi
  stop_pidfile slurmd "$STATE/slurmd.pid"
  stop_pidfile slurmctld "$STATE/slurmctld.pid"
  stop_pidfile munged "$STATE/munge-run/munged.pid"
  if [ "$CONF_WRITTEN" = 1 ]; then
    if [ -f "$BACKUP" ]; then mv -f "$BACKUP" "$CONF"; else rm -f "$CONF"; fi
  fi
  if [ "${PREVALENCE_SLURM_KEEP:-0}" = 1 ]; then
    echo "test-slurm: kept $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 2. a single-node SLURM --------------------------------------------------------------------
# munged (as user munge, as Debian runs it): key, seed and log in a private folder, the socket
# and pid file in one that everyone can enter (munged checks both).
mkdir -p "$STATE/ctld" "$STATE/spool" "$STATE/munge" "$STATE/munge-run"
chown munge:munge "$STATE/munge" "$STATE/munge-run"
chmod 700 "$STATE/munge"
chmod 755 "$STATE/munge-run"
SOCKET=$STATE/munge-run/munge.socket
runuser -u munge -- mungekey --create --keyfile="$STATE/munge/munge.key"
runuser -u munge -- munged --socket="$SOCKET" --key-file="$STATE/munge/munge.key" \
  --pid-file="$STATE/munge-run/munged.pid" --log-file="$STATE/munge/munged.log" \
  --seed-file="$STATE/munge/munged.seed"
munge -n -S "$SOCKET" | unmunge -S "$SOCKET" >/dev/null || fail "munged does not answer"

# The node as slurmd sees it: "NodeName=host CPUs=2 Boards=1 ... RealMemory=24105".
NODE_LINE=$(slurmd -C | grep '^NodeName=')
NODE=$(sed -E 's/^NodeName=([^ ]+).*/\1/' <<<"$NODE_LINE")
[ -n "$NODE" ] || fail "slurmd -C gave no node: $(slurmd -C)"
mkdir -p /etc/slurm
if [ -e "$CONF" ] && [ ! -e "$BACKUP" ]; then mv "$CONF" "$BACKUP"; fi
CONF_WRITTEN=1
cat >"$CONF" <<EOF
# Written by prevalence's tests/slurm/run_slurm_test.sh; removed (or the previous file restored)
# when the test ends.
ClusterName=prevalence-test
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCKET
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
# Finished jobs stay visible to squeue (the plugin's status command here) for 10 minutes.
MinJobAge=600
$NODE_LINE NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=main Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
chmod 644 "$CONF"
slurmctld
slurmd
for _ in $(seq 60); do
  state=$(sinfo -h -N -n "$NODE" -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  sleep 1
done
[ "$state" = idle ] || fail "node $NODE is '$state', not idle, after 60 s"
say "single-node SLURM up: $NODE_LINE ($((SECONDS - START)) s)"

# --- 3. the same copy of the project, locally then through SLURM -------------------------------
copy_project() { # what the workflow reads (as in the checkout), without results or caches
  mkdir -p "$1"
  tar -C "$ROOT" --exclude=./data/processed --exclude=__pycache__ \
    -cf - ./Snakefile ./config.yaml ./workflow ./scripts ./src ./data | tar -C "$1" -xf -
}

run_snakemake() { # folder logfile args...: exit status of snakemake, 124 if it timed out
  local folder=$1 log=$2 status=0
  shift 2
  # The copy's own library (the .venv's editable install points at the checkout, which may change
  # meanwhile); sbatch passes the environment on to the jobs (--export=ALL).
  # In the background, so that a SIGTERM or SIGINT to this script is handled at once (cleanup
  # stops the run: timeout passes the signal on, and SIGKILLs 30 s later).
  (cd "$folder" && PYTHONPATH="$folder/src${PYTHONPATH:+:$PYTHONPATH}" \
    exec timeout -k 30 "$RUN_TIMEOUT" "$BIN/snakemake" "$@") >"$log" 2>&1 &
  RUN_PID=$!
  wait "$RUN_PID" || status=$?
  RUN_PID=
  return $status
}

PROJECT=$WORK/project
copy_project "$PROJECT"
t0=$SECONDS
run_snakemake "$PROJECT" "$WORK/local.log" --workflow-profile workflow/profiles/default ||
  { tail -n 30 "$WORK/local.log" >&2; fail "local run of the copy failed"; }
say "local run: $((SECONDS - t0)) s"
mv "$PROJECT/results" "$WORK/local-results"
mv "$PROJECT/data/processed" "$WORK/local-processed"
# Snakemake's whole log of the local run (the default profile's console leaves out its
# "Finished jobid" lines)
cat "$PROJECT"/.snakemake/log/*.snakemake.log >"$WORK/local-full.log"
rm -rf "$PROJECT/.snakemake"

t0=$SECONDS
status=0
run_snakemake "$PROJECT" "$WORK/slurm.log" --workflow-profile workflow/profiles/slurm || status=$?
if [ $status -ne 0 ]; then
  tail -n 40 "$WORK/slurm.log" >&2
  [ $status -eq 124 ] && fail "the SLURM run hung: killed after $RUN_TIMEOUT s"
  fail "the SLURM run exited with $status"
fi
say "SLURM run: $((SECONDS - t0)) s"

# Every job of the local run (rule `all` aside, which runs nothing) is one SLURM job that
# COMPLETED in slurmctld's records, under this run's job name, with its rule in the comment.
# (from Snakemake's progress lines in its log: the default profile keeps the rules' details off
# the console)
rules_of() {
  sed -nE 's/^Finished jobid: [0-9]+ \(Rule: ([A-Za-z0-9_]+)\)$/\1/p' "$1" | { grep -vx all || true; } | sort
}
rules_of "$WORK/local-full.log" >"$WORK/local-jobs.txt"
n_jobs=$(wc -l <"$WORK/local-jobs.txt")
[ "$n_jobs" -ge 10 ] || fail "the local run ran only $n_jobs jobs"
outside=$(grep -E "^localrule [A-Za-z0-9_]+:" "$WORK/slurm.log" | grep -v "^localrule all:" || true)
[ -z "$outside" ] || fail "jobs ran outside SLURM: $outside"
run_id=$(sed -nE 's/.*SLURM run ID: ([^ ]+).*/\1/p' "$WORK/slurm.log" | head -n 1)
[ -n "$run_id" ] || fail "no 'SLURM run ID' in the snakemake log"
sed -nE 's/.*has been submitted with SLURM jobid ([0-9]+).*/\1/p' "$WORK/slurm.log" | sort -n -u \
  >"$WORK/submitted.txt"
squeue -h --states=all --name="$run_id" -o '%i|%T|%k' | sort -t'|' -k1,1n >"$WORK/squeue.txt"
[ "$(wc -l <"$WORK/submitted.txt")" -eq "$n_jobs" ] ||
  fail "$n_jobs jobs ran locally but $(wc -l <"$WORK/submitted.txt") were submitted to SLURM"
cut -d'|' -f1 "$WORK/squeue.txt" | sort -n -u | diff - "$WORK/submitted.txt" >/dev/null ||
  fail "SLURM's jobs of run $run_id differ from those snakemake submitted: $(cat "$WORK/squeue.txt")"
grep -v '|COMPLETED|' "$WORK/squeue.txt" && fail "a SLURM job did not complete"
cut -d'|' -f3 "$WORK/squeue.txt" | sed -E 's/_wildcards_.*$//; s/^rule_//' | sort |
  diff "$WORK/local-jobs.txt" - >&2 || fail "SLURM's jobs are not the local run's jobs, rule by rule"
say "$n_jobs jobs, each a SLURM job that COMPLETED (ids $(paste -sd' ' "$WORK/submitted.txt"))"

# Same bytes: every output (tables, figures, reproduction.csv, ingest logs, manifest.json,
# reproduction_check.txt, processed data), the rules' .log files, benchmarks/ and the summary
# (it holds the elapsed time) aside.
diff -r -x '*.log' -x benchmarks -x summary.txt "$WORK/local-results" "$PROJECT/results" >&2 ||
  fail "results/ of the SLURM run differ from the local run's"
diff -r "$WORK/local-processed" "$PROJECT/data/processed" >&2 ||
  fail "data/processed/ of the SLURM run differs from the local run's"
n_files=$(find "$PROJECT/results" "$PROJECT/data/processed" -type f ! -name '*.log' | wc -l)
say "SLURM and local runs wrote the same bytes ($n_files files)"

# --- 4. a bad code fails the SLURM run with the rule's message ---------------------------------
BROKEN=$WORK/broken
copy_project "$BROKEN"
"$BIN/python" - "$BROKEN/data/raw/2016-global/responses.csv" <<'EOF'
import csv, sys

path = sys.argv[1]
with open(path, newline="", encoding="utf-8") as f:
    rows = list(csv.reader(f))
rows[1][rows[0].index("q01")] = "6"
with open(path, "w", newline="", encoding="utf-8") as f:
    csv.writer(f, lineterminator="\n").writerows(rows)
EOF
t0=$SECONDS
status=0
run_snakemake "$BROKEN" "$WORK/broken.log" --workflow-profile workflow/profiles/slurm || status=$?
[ $status -ne 124 ] || fail "the SLURM run on broken data hung: killed after $RUN_TIMEOUT s"
[ $status -ne 0 ] || fail "the SLURM run on broken data succeeded"
grep -q "has been submitted with SLURM jobid" "$WORK/broken.log" ||
  fail "the broken run submitted no SLURM job"
grep -q "is not in the codebook" "$WORK/broken.log" ||
  { tail -n 40 "$WORK/broken.log" >&2; fail "the failed run does not say 'is not in the codebook'"; }
grep -q "is not in the codebook" "$BROKEN/results/logs/wave/2016-global.log" ||
  fail "the rule's log does not say 'is not in the codebook'"
grep -q "Traceback" "$WORK/broken.log" && fail "the failed run printed a traceback"
say "broken data: the SLURM run exited $status with the rule's message ($((SECONDS - t0)) s):"
grep -m1 "is not in the codebook" "$WORK/broken.log" | sed 's/^/    /'

say "done in $((SECONDS - START)) s"
echo "test-slurm: 2 passed, 0 failed"
