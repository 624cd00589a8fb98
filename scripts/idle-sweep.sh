#!/usr/bin/env bash
# What the ingest sweep costs while nothing new arrives: requests per minute reaching Azurite and Azurite's CPU, with
# `alexnet pipeline` idle over a container of handled uploads. Side by side: each given build of the command, in turn,
# on the same Azurite data.
#   scripts/idle-sweep.sh [UPLOADS] [ALEXNET...]
#     UPLOADS   handled uploads to create first (half by batch, half by upload stream, via `alexnet pipeline --bench`;
#               default 2000)
#     ALEXNET   the built commands to compare (default: this clone's Release build)
# Environment: IDLE_PORT (first of three Azurite ports, default 11300), IDLE_API_PORT (default 7601),
# IDLE_WARM_S (seconds after start before measuring, default 90: the first sweep of a build reconciles), IDLE_MEASURE_S
# (default 60).
set -euo pipefail
cd "$(dirname "$0")/.."

uploads="${1:-2000}"
shift || true
builds=("$@")
((${#builds[@]})) || builds=(src/AlexNet.Cli/bin/Release/net10.0/alexnet)
port="${IDLE_PORT:-11300}"
api_port="${IDLE_API_PORT:-7601}"
warm="${IDLE_WARM_S:-90}"
measure="${IDLE_MEASURE_S:-60}"
out="$(mktemp -d /tmp/alexnet-idle-sweep-XXXXXX)"

source scripts/lib/private-azurite.sh
pipeline_pid=
cleanup() {
    [[ -n "$pipeline_pid" ]] && kill "$pipeline_pid" 2>/dev/null && wait "$pipeline_pid" 2>/dev/null
    stop_private_azurite
}
trap cleanup EXIT
start_private_azurite "$port" "$out" --location "$out/azurite" --debug "$out/azurite-debug.log"
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
# Azurite's debug log has one "<Service>StorageContextMiddleware: RequestMethod=" line per request it serves.
requests() { grep -c "StorageContextMiddleware: RequestMethod=" "$out/azurite-debug.log" || true; }
# The sweep's own: the upload, record and runs containers (the idle worker and the durable engine use others).
sweep_requests() { grep -c "BlobStorageContextMiddleware: RequestMethod=[A-Z]* RequestURL=http://127.0.0.1/devstoreaccount1/\(incoming\|labels\|rejected\|runs\)[/?]" "$out/azurite-debug.log" || true; }

echo "idle-sweep: creating $uploads handled uploads with ${builds[0]} pipeline --bench $((uploads / 2)) (output in $out)"
"${builds[0]}" pipeline --bench "$((uploads / 2))" --storage "$storage" --task-hub idlebench --port "$api_port" > "$out/bench.log" 2>&1 \
    || { echo "idle-sweep: the bench failed; see $out/bench.log" >&2; tail -5 "$out/bench.log" >&2; exit 1; }

printf '%s\n' "| build | sweep requests/min (incoming, labels, rejected, runs) | all requests/min (durable engine and idle worker included) | Azurite CPU s/min | load average |"
printf '%s\n' "|---|---|---|---|---|"
for build in "${builds[@]}"; do
    "$build" pipeline --storage "$storage" --task-hub idlehub --port "$api_port" --sweep-seconds 2 > "$out/pipeline.log" 2>&1 &
    pipeline_pid=$!
    sleep "$warm"
    r0=$(requests); b0=$(sweep_requests); c0=$(cpu_seconds "$azurite_pid")
    sleep "$measure"
    r1=$(requests); b1=$(sweep_requests); c1=$(cpu_seconds "$azurite_pid")
    kill "$pipeline_pid" 2>/dev/null; wait "$pipeline_pid" 2>/dev/null || true
    pipeline_pid=
    awk -v b="$build" -v r=$((r1 - r0)) -v bl=$((b1 - b0)) -v c0="$c0" -v c1="$c1" -v m="$measure" -v l="$(cut -d' ' -f1-3 /proc/loadavg)" \
        'BEGIN { printf "| %s | %.0f | %.0f | %.1f | %s |\n", b, bl * 60 / m, r * 60 / m, (c1 - c0) * 60 / m, l }'
done
