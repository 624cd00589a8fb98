#!/usr/bin/env bash
# The pipeline at scale on this machine: N tiny uploads labeled as one batch (LabelBatch orchestration, chunks, label
# queue, worker, records, report) and then an upload stream (found by the sweep, which sends an upload's batch in shared messages), on
# an Azurite of its own. The network is the bench's random-weight 64-pixel AlexNet (a forward pass of about a
# millisecond), so what is measured is the pipeline around it. docs/scale.md has the figures and what they project.
#   scripts/scale.sh                 100,000 by batch, 10,000 by upload stream
#   scripts/scale.sh 20000 2000      smaller runs
# Environment: SCALE_PORT (first of three Azurite ports, default 11300; API on SCALE_API_PORT, default 7601),
# SCALE_CHUNK (images per chunk, default 1024), SCALE_POLL (seconds between done-chunk polls, default 5),
# SCALE_IN_MEMORY=1 (Azurite without disk persistence), SCALE_OUT (folder for the JSON and logs), SKIP_BUILD=1, ALEXNET (the
# alexnet binary to run, e.g. a copy of the build folder, so that building meanwhile cannot change it under the run).
set -euo pipefail
cd "$(dirname "$0")/.."

images="${1:-100000}"
stream="${2:-$((images / 10))}"
port="${SCALE_PORT:-11300}"
api_port="${SCALE_API_PORT:-7601}"
chunk="${SCALE_CHUNK:-1024}"
poll="${SCALE_POLL:-5}"
out="${SCALE_OUT:-/tmp/alexnet-scale-$(date -u +%Y%m%d-%H%M%S)}"
[[ "$images" =~ ^[0-9]+$ && "$stream" =~ ^[0-9]+$ ]] || { echo "usage: scripts/scale.sh [IMAGES] [STREAM_IMAGES]" >&2; exit 2; }
mkdir -p "$out"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    dotnet build src/AlexNet.Cli/AlexNet.Cli.csproj -c Release -v quiet -nologo 2>&1 | grep -Ev 'NU1603|Warning\(s\)|Error\(s\)|Time Elapsed|Build succeeded|^\s*$' || true
fi
alexnet="${ALEXNET:-src/AlexNet.Cli/bin/Release/net10.0/alexnet}"
[[ -x "$alexnet" ]] || { echo "scale: $alexnet is missing; build src/AlexNet.Cli in Release" >&2; exit 1; }
persistence=(--location "$out/azurite")
[[ "${SCALE_IN_MEMORY:-0}" == 1 ]] && persistence=(--inMemoryPersistence)
source scripts/lib/private-azurite.sh
trap stop_private_azurite EXIT
start_private_azurite "$port" "$out" "${persistence[@]}"

# CPU seconds (user + system) of a process so far, from /proc.
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat"; }


echo "scale: $images by batch (chunks of $chunk), $stream by upload stream; Azurite on $port ($([[ "${SCALE_IN_MEMORY:-0}" == 1 ]] && echo in memory || echo disk)); output in $out"
echo "scale: load before: $(uptime)"
azurite_cpu_before=$(cpu_seconds "$azurite_pid")
started=$(date +%s)
status=0
/usr/bin/time -f "%e s wall, %M KB peak RSS, %U s user, %S s system" -o "$out/time.txt" \
    "$alexnet" pipeline --scale "$images" --scale-stream "$stream" --bench-chunk-size "$chunk" --scale-poll-seconds "$poll" \
    --storage "$storage" --task-hub "scale$(date +%s)" --port "$api_port" --json > "$out/result.json" 2> "$out/stderr.log" || status=$?
azurite_cpu=$(awk -v a="$(cpu_seconds "$azurite_pid")" -v b="$azurite_cpu_before" 'BEGIN { printf "%.1f", a - b }')
azurite_rss=$(awk '/VmHWM/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$azurite_pid/status")
echo "scale: load after: $(uptime)"
sed -n '/^{/,$p' "$out/result.json" > "$out/result-only.json" || true
sed '/^{/,$d' "$out/result.json"
echo "alexnet process: $(cat "$out/time.txt")"
echo "Azurite: $azurite_cpu CPU-seconds, peak RSS $azurite_rss, over $(( $(date +%s) - started )) s (uploads included)"
if [[ -s "$out/result-only.json" ]] && command -v python3 > /dev/null; then
    python3 - "$out/result-only.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
for name in ("batch", "uploadStream"):
    p = r.get(name)
    if not p:
        continue
    per = p["requestsPerImage"]
    kinds = ", ".join(f"{k} {v:.3f}" for k, v in per.items() if isinstance(v, (int, float)) and v and k not in ("blob", "queue", "total"))
    print(f"{p['name']}: {p['labeled']}/{p['images']} in {p['seconds']:.1f} s = {p['imagesPerSecond']:.1f} img/s; "
          f"history {p['historyRows']} rows {p['historyBytes'] / 1024:.0f} KiB; RSS peak {p['peakWorkingSetBytes'] / 2**20:.0f} MiB, "
          f"end {p['endWorkingSetBytes'] / 2**20:.0f} MiB; requests/image {per['total']:.3f} ({kinds}); uploads took {p['uploadSeconds']:.1f} s")
EOF
fi
[[ $status == 0 ]] || { echo "scale: alexnet exited $status; see $out/stderr.log" >&2; tail -5 "$out/stderr.log" >&2; }
exit "$status"
