#!/usr/bin/env bash
# Runs every test project of the solution in Release and prints one closing line:
# "tests: N passed, N failed, N skipped". Extra arguments go to dotnet test (e.g. --no-build, --filter X).
set -uo pipefail
cd "$(dirname "$0")/.."
results=artifacts/test-results
rm -rf "$results"
mkdir -p "$results"
log=$(mktemp)
dotnet test AlexNet.Pipeline.sln -c Release --logger "trx" --results-directory "$results" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
summary=$(grep -Eo 'Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$log" | awk -F'[:,]' '{f+=$2; p+=$4; s+=$6} END {printf "%d passed, %d failed, %d skipped", p, f, s}')
rm -f "$log"
echo "tests: ${summary:-0 passed, 0 failed, 0 skipped}"
exit "$status"
