#!/usr/bin/env bash
# Long versions of the reliability tests (tests/AlexNet.Reliability.Tests), bounded in time, then one table of
# their figures (the same columns as docs/reliability.md).
#   scripts/soak.sh                  every soak run (about 10 minutes on 2 cores, hard limit SOAK_BUDGET_S)
#   scripts/soak.sh Kill Corrupt     only the test classes whose name contains one of the words
# Sizes come from ALEXNET_SOAK_<NAME> (defaults below); the tests read them only when ALEXNET_SOAK=1.
# Needs Azurite (started here if it is not running). Runs under nice: the machine is shared.
set -uo pipefail
cd "$(dirname "$0")/.."

budget_s="${SOAK_BUDGET_S:-900}"
configuration="${SOAK_CONFIGURATION:-Release}"

export ALEXNET_SOAK=1
: "${ALEXNET_SOAK_FAULT_IMAGES:=3000}"          # 10% faults + 10% latency: images per run (a fault-free run and a faulty one)
: "${ALEXNET_SOAK_KILL_IMAGES:=3000}"           # worker process killed with SIGKILL mid-batch...
: "${ALEXNET_SOAK_KILLS:=10}"                   # ...this many times
: "${ALEXNET_SOAK_EVENT_IMAGES:=1000}"          # upload events delivered twice and out of order
: "${ALEXNET_SOAK_CORRUPT_IMAGES:=3000}"        # 1% corrupt inputs
: "${ALEXNET_SOAK_CORPUS_TRUNCATIONS:=1000}"    # generated bad inputs through the worker: truncations...
: "${ALEXNET_SOAK_CORPUS_MUTATIONS:=2000}"      # ...and mutants
: "${ALEXNET_SOAK_RESTART_IMAGES:=600}"         # pipeline host restarted during the fan-out: images per batch (2 batches)...
: "${ALEXNET_SOAK_RESTARTS:=10}"                # ...and restarts
export ALEXNET_SOAK_FAULT_IMAGES ALEXNET_SOAK_KILL_IMAGES ALEXNET_SOAK_KILLS ALEXNET_SOAK_EVENT_IMAGES ALEXNET_SOAK_CORRUPT_IMAGES \
    ALEXNET_SOAK_CORPUS_TRUNCATIONS ALEXNET_SOAK_CORPUS_MUTATIONS ALEXNET_SOAK_RESTART_IMAGES ALEXNET_SOAK_RESTARTS

filter="FullyQualifiedName!~ChaosDecoratorTests"
if (($# > 0)); then
    filter=""
    for word in "$@"; do
        filter="${filter:+$filter|}FullyQualifiedName~$word"
    done
fi

bash scripts/azurite.sh start || exit 1

echo "soak: building tests/AlexNet.Reliability.Tests ($configuration)"
nice dotnet build tests/AlexNet.Reliability.Tests -c "$configuration" -v quiet -nologo 2>&1 | grep -Ev 'NU1603|Warning\(s\)|Error\(s\)|Time Elapsed|Build succeeded|^\s*$'
((PIPESTATUS[0] == 0)) || exit 1

report="$(mktemp)"
log="$(mktemp --suffix=.soak.log)"
export ALEXNET_RELIABILITY_REPORT="$report"
started=$SECONDS
echo "soak: running (limit ${budget_s}s, log $log)"
timeout -k 30 "$budget_s" nice dotnet test tests/AlexNet.Reliability.Tests -c "$configuration" --no-build --nologo \
    --filter "$filter" --logger "console;verbosity=detailed" >"$log" 2>&1
status=$?
elapsed=$((SECONDS - started))

grep -E '^\s+(Passed|Failed) ' "$log" | sed -E 's/^\s+/  /'
if ((status == 124 || status == 137)); then
    echo "soak: stopped at the ${budget_s}s limit; the table has the runs that finished"
fi

echo
echo "soak figures ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, ${elapsed}s in all, configuration $configuration)"
{
    printf 'test\tsize\truns\tfaults injected\timages in\tlabeled\trejected\tlost\tduplicates\ts\n'
    cut -f1-10 "$report"
} | column -t -s $'\t'
echo
echo "notes:"
cut -f1,11 "$report" | sed -E 's/\t/: /; s/^/  /'
rm -f "$report"
if ((status != 0)); then
    echo "soak: FAILED (exit $status); details in $log"
    exit "$status"
fi
rm -f "$log"
echo "soak: passed"
