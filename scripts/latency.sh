#!/usr/bin/env bash
# Simulated Azure latency against none: `alexnet pipeline --bench N --bench-latency PROFILE` for each worker setting
# below, one after the other on one Azurite of its own, and a table of the throughput with and without the latency.
# Each run labels the same N images as one batch three times in one process (without, with, without again) and
# reports the ratios with / without (the pass after) of the batch's wall time and of the worker's own throughput
# (images over the seconds of its runs); the target is >= 0.8. docs/scale.md ("Latency") has the figures.
#   scripts/latency.sh            1024 images
#   scripts/latency.sh 2048
# Environment: LATENCY_PROFILE (default azure-standard), LATENCY_PORT (first of three Azurite ports, default 11400;
# API on LATENCY_API_PORT, default 7611), LATENCY_SETTINGS (the settings to run, separated by ';': a name, then
# '|', then space-separated ALEXNET_Worker__X=V overrides or --bench-chunk-size N; default below), LATENCY_OUT (folder
# for the JSON and logs), SKIP_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/.."

images="${1:-1024}"
profile="${LATENCY_PROFILE:-azure-standard}"
port="${LATENCY_PORT:-11400}"
api_port="${LATENCY_API_PORT:-7611}"
out="${LATENCY_OUT:-/tmp/alexnet-latency-$(date -u +%Y%m%d-%H%M%S)}"
default_settings="defaults|;read/write 64|ALEXNET_Worker__ReadParallelism=64 ALEXNET_Worker__WriteParallelism=64;read/write 64, chunks of 128, 32 per receive|ALEXNET_Worker__ReadParallelism=64 ALEXNET_Worker__WriteParallelism=64 ALEXNET_Worker__MaxMessagesPerReceive=32 --bench-chunk-size 128"
settings="${LATENCY_SETTINGS:-$default_settings}"
[[ "$images" =~ ^[0-9]+$ && "$images" -gt 0 ]] || { echo "usage: scripts/latency.sh [IMAGES]" >&2; exit 2; }
mkdir -p "$out"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    dotnet build src/AlexNet.Cli/AlexNet.Cli.csproj -c Release -v quiet -nologo 2>&1 | grep -Ev 'NU1603|Warning\(s\)|Error\(s\)|Time Elapsed|Build succeeded|^\s*$' || true
fi
alexnet=src/AlexNet.Cli/bin/Release/net10.0/alexnet
[[ -x "$alexnet" ]] || { echo "latency: $alexnet is missing; build src/AlexNet.Cli in Release" >&2; exit 1; }
source scripts/lib/private-azurite.sh
trap stop_private_azurite EXIT
start_private_azurite "$port" "$out" --location "$out/azurite"

echo "latency: $images images, profile $profile, Azurite on $port; output in $out"
status=0
run=0
IFS=';' read -r -a entries <<< "$settings"
for entry in "${entries[@]}"; do
    name="${entry%%|*}"
    args="${entry#*|}"
    run=$((run + 1))
    envs=()
    extra=()
    for word in $args; do
        if [[ "$word" == ALEXNET_*=* ]]; then envs+=("$word"); else extra+=("$word"); fi
    done
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    rc=0
    env "${envs[@]}" "$alexnet" pipeline --bench "$images" --bench-latency "$profile" "${extra[@]}" \
        --storage "$storage" --task-hub "latency$(date +%s)" --port "$api_port" --json > "$out/run$run.json" 2> "$out/run$run.stderr.log" || rc=$?
    load_after=$(cut -d' ' -f1-3 /proc/loadavg)
    sed -n '/^{/,$p' "$out/run$run.json" > "$out/run$run.result.json" || true
    echo "$name|$args|$load_before|$load_after|$rc" > "$out/run$run.setting"
    if [[ $rc != 0 ]]; then
        status=$rc
        echo "latency: '$name' exited $rc; see $out/run$run.stderr.log" >&2
        tail -5 "$out/run$run.stderr.log" >&2
    fi
done

python3 - "$out" "$run" <<'PY'
import json, os, sys
out, runs = sys.argv[1], int(sys.argv[2])
print("| setting | overrides | load avg before / after | alexnet label img/s | batch img/s: no latency, first pass | with latency | no latency, pass after | batch ratio | worker img/s: with / without (pass after) | worker ratio (>= 0.8) | latency injected per image |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for i in range(1, runs + 1):
    name, args, before, after, rc = open(os.path.join(out, f"run{i}.setting")).read().strip().split("|")
    path = os.path.join(out, f"run{i}.result.json")
    if rc != "0" or not os.path.getsize(path):
        print(f"| {name} | {args or '-'} | {before} / {after} | failed (exit {rc}) | | | | | | | |")
        continue
    # The JSON comes first; a late log line of the host may follow it.
    r, _ = json.JSONDecoder().raw_decode(open(path).read())
    l = r["latency"]
    print(f"| {name} | {args or '-'} | {before} / {after} | {r['labelImagesPerSecond']:.1f} | {l['withoutImagesPerSecond']:.1f} | "
          f"{l['withImagesPerSecond']:.1f} | {l['withoutAgainImagesPerSecond']:.1f} | {l['ratio']:.3f} | "
          f"{l['workerWithImagesPerSecond']:.1f} / {l['workerWithoutImagesPerSecond']:.1f} | **{l['workerRatio']:.3f}** | {l['injectedMillisecondsPerImage']:.0f} ms |")
PY
exit "$status"
