#!/usr/bin/env bash
# Accuracy of the training defaults on small sets: Fashion-MNIST subsets of N images per class (28x28, input 64),
# several seeds, each trained with `alexnet train` and scored on the full 10,000-image test set with `alexnet eval`.
# Prints one line per run: per-class size, seed, test top-1, epochs, final validation loss/error, seconds.
#
#   bash scripts/small-sets.sh                          # 50, 150 and 500 per class, seeds 1-5, 30/20/15 epochs
#   SIZES="140" SEEDS="1" EPOCHS=30 bash scripts/small-sets.sh -- --recipe paper   # extra flags go to alexnet train
#
# Needs Debian's dataset-fashion-mnist. Runs on the Release build in src/AlexNet.Cli/bin (dotnet build -c Release).
set -euo pipefail
cd "$(dirname "$0")/.."
cli=${CLI:-src/AlexNet.Cli/bin/Release/net10.0/alexnet}
data=${DATA:-data/fmnist}
out=${OUT:-runs/small-sets}
sizes=${SIZES:-"50 150 500"}
seeds=${SEEDS:-"1 2 3 4 5"}
[ "${1:-}" = "--" ] && shift
[ -x "$cli" ] || { echo "build first: dotnet build AlexNet.Pipeline.sln -c Release" >&2; exit 2; }
[ -d "$data/train" ] || "$cli" import fashion-mnist --out "$data" >/dev/null
mkdir -p "$out"
for size in $sizes; do
  case $size in 50) epochs=${EPOCHS:-30};; 150) epochs=${EPOCHS:-20};; *) epochs=${EPOCHS:-15};; esac
  for seed in $seeds; do
    run="$out/$size-seed$seed"
    rm -rf "$run"
    start=$(date +%s)
    "$cli" train --data "$data/train" --out "$run" --input-size 64 --limit "$size" --seed "$seed" --threads 2 --epochs "$epochs" "$@" > "$run.train.log" 2>&1 || true
    trained=$(( $(date +%s) - start ))
    if "$cli" eval --model "$run/model" --data "$data/test" --json > "$run.eval.json" 2>/dev/null; then
      python3 - "$size" "$seed" "$trained" "$run" <<'PY'
import json, sys
size, seed, seconds, run = sys.argv[1:]
report = json.load(open(run + ".eval.json"))
report = report[0] if isinstance(report, list) else report
report = report.get("reports", [report])[0]
epochs = json.load(open(run + "/metrics.json"))["epochs"]
last = epochs[-1]
print(f"per-class {size} seed {seed}: test top-1 {1 - report['top1Error']:.4f}, {len(epochs)} epochs, "
      f"validation loss {last['validationLoss']:.3f} error {last['validationTop1Error']:.3f}, rate {last['learningRate']:g}, {seconds} s", flush=True)
PY
    else
      echo "per-class $size seed $seed: training failed ($(tail -1 "$run.train.log"))"
    fi
  done
done
