#!/usr/bin/env bash
# Decode throughput on ONE core, side by side: ours (SkiaSharp decode + resize + centre crop to 256, in process)
# against libjpeg-turbo's djpeg (full size, -scale 1/4, -scale 1/8; one process per file) on the same JPEGs.
#   bash compare-djpeg.sh DIR [rounds]      DIR as written by: dotnet run -c Release decode-bench.cs -- prepare DIR
# Everything runs under one `taskset -c 0`, so djpeg pays one exec per file and no extra one for taskset.
# The exec cost alone is measured on a 63x47 JPEG, so small files can be read net of it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(cd "$1" && pwd)
rounds=${2:-3}
dotnet build -c Release "$here/decode-bench.cs" >/dev/null 2>&1 || true
[ -f "$dir/tiny/t.jpg" ] || { mkdir -p "$dir/tiny"; djpeg -scale 1/8 "$(ls "$dir"/photos500/*.jpg | head -1)" | cjpeg -quality 90 > "$dir/tiny/t.jpg"; }

djpeg_rate() { # folder repetitions [djpeg options]
  local folder=$1 reps=$2 opts=${3:-}
  local n; n=$(ls "$folder"/*.jpg | wc -l)
  local start end
  start=$(date +%s.%N)
  taskset -c 0 bash -c "for r in \$(seq $reps); do for f in '$folder'/*.jpg; do djpeg $opts -outfile /dev/null \"\$f\"; done; done"
  end=$(date +%s.%N)
  python3 -c "n=$n*$reps; t=$end-$start; print(f'{n/t:8.1f} img/s  ({t:.2f} s for {n} decodes)')"
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  echo "== round $round, load $(cut -d' ' -f1 /proc/loadavg)"
  echo "djpeg exec only (63x47 file):   $(djpeg_rate "$dir/tiny" 200)"
  for spec in photos500:10:3 gnome:3:1; do
    IFS=: read -r set ours_iterations djpeg_reps <<< "$spec"
    echo "ours ($set): $(taskset -c 0 dotnet run -c Release "$here/decode-bench.cs" -- run "$dir/$set" "$ours_iterations" 256 | sed "s/^[^:]*: //")"
    echo "djpeg full ($set):            $(djpeg_rate "$dir/$set" "$djpeg_reps")"
    echo "djpeg -scale 1/4 ($set):      $(djpeg_rate "$dir/$set" "$djpeg_reps" '-scale 1/4')"
    echo "djpeg -scale 1/8 ($set):      $(djpeg_rate "$dir/$set" "$djpeg_reps" '-scale 1/8')"
  done
done
