#!/usr/bin/env bash
# `alexnet pipeline --bench N` on an Azurite of its own, with the CPU time of both processes per phase: where the
# local pipeline's time goes on a machine whose cores it shares with Azurite (docs/benchmarks.md).
#   scripts/bench-cpu.sh                 2,048 images, in-memory Azurite
#   scripts/bench-cpu.sh 8192 disk       8,192 images, Azurite with disk persistence
# Environment: BENCH_PORT (first of three Azurite ports, default 11500; API on BENCH_API_PORT, default 7620),
# BENCH_OUT (folder for the output and logs), ALEXNET (the alexnet binary; default the Release build), and any
# ALEXNET_Section__Key=value setting, which the pipeline reads.
set -euo pipefail
cd "$(dirname "$0")/.."

images="${1:-2048}"
mode="${2:-memory}"
port="${BENCH_PORT:-11500}"
api_port="${BENCH_API_PORT:-7620}"
out="${BENCH_OUT:-/tmp/alexnet-bench-cpu-$(date -u +%Y%m%d-%H%M%S)}"
alexnet="${ALEXNET:-src/AlexNet.Cli/bin/Release/net10.0/alexnet}"
[[ "$images" =~ ^[0-9]+$ && "$images" -gt 0 ]] || { echo "usage: scripts/bench-cpu.sh [IMAGES] [memory|disk]" >&2; exit 2; }
[[ "$mode" == memory || "$mode" == disk ]] || { echo "bench-cpu: the second argument is memory or disk (got '$mode')" >&2; exit 2; }
[[ -x "$alexnet" ]] || { echo "bench-cpu: $alexnet is missing; build src/AlexNet.Cli in Release or set ALEXNET" >&2; exit 1; }
mkdir -p "$out"

source scripts/lib/private-azurite.sh
trap stop_private_azurite EXIT
if [[ "$mode" == memory ]]; then
    start_private_azurite "$port" "$out" --inMemoryPersistence
else
    start_private_azurite "$port" "$out" --location "$out/azurite"
fi

# CPU seconds (user + system) of a process and its threads so far.
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }

"$alexnet" pipeline --bench "$images" --storage "$storage" --task-hub "cpu$(date +%s)" --port "$api_port" \
    > "$out/bench.out" 2> "$out/bench.err" &
bench_pid=$!
echo "bench-cpu: $images images, $mode Azurite on $port; output in $out"
printf '%-26s %8s %14s %14s\n' "phase (ends at the line)" "wall s" "alexnet CPU-s" "Azurite CPU-s"
marks='^([0-9]+ generated|alexnet label:|pipeline batch:|upload stream:)'
seen=0
last_time=$(date +%s.%N); last_alexnet=0; last_azurite=$(cpu_seconds "$azurite_pid")
report_new_marks() {
    local lines
    mapfile -t lines < <(grep -E "$marks" "$out/bench.out" || true)
    while (( seen < ${#lines[@]} )); do
        local now alexnet_cpu azurite_cpu
        now=$(date +%s.%N); alexnet_cpu=$(cpu_seconds "$bench_pid"); azurite_cpu=$(cpu_seconds "$azurite_pid")
        if (( seen > 0 )); then
            awk -v l="${lines[$seen]%%:*}" -v w="$now" -v lw="$last_time" -v a="$alexnet_cpu" -v la="$last_alexnet" -v z="$azurite_cpu" -v lz="$last_azurite" \
                'BEGIN { printf "%-26s %8.1f %14.1f %14.1f\n", substr(l, 1, 26), w - lw, a - la, z - lz }'
        fi
        last_time=$now; last_alexnet=$alexnet_cpu; last_azurite=$azurite_cpu
        seen=$((seen + 1))
    done
}
while kill -0 "$bench_pid" 2>/dev/null; do
    report_new_marks
    sleep 0.5
done
status=0
wait "$bench_pid" || status=$?
echo
grep -E "$marks" "$out/bench.out" | grep -v generated || true
sed -n '/requests per labeled image/,$p' "$out/bench.out"
[[ $status == 0 ]] || { echo "bench-cpu: alexnet exited $status; see $out/bench.err" >&2; tail -5 "$out/bench.err" >&2; }
exit "$status"
