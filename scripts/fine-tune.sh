#!/usr/bin/env bash
# Fine-tuning against training from scratch, on Fashion-MNIST split in two halves of five classes (input 64):
# a parent model trained on 300 images per class of labels 0-4, then 50 images per class of
#   - the other five classes (5-9): fine-tuned from the parent (fc8 afresh) and from scratch, for 1, 2, 5 and 15 epochs;
#   - the parent's own classes: fine-tuned and from scratch, 15 epochs;
# each scored with `alexnet eval` on the full test images of its five classes (1,000 per class; chance 0.20).
# Prints one line per run: what, epochs, test top-1, best epoch, seconds.
#
#   bash scripts/fine-tune.sh
#   EPOCHS="1 5" SEED=2 bash scripts/fine-tune.sh
#
# Needs Debian's dataset-fashion-mnist. Runs on the Release build in src/AlexNet.Cli/bin (dotnet build -c Release).
set -euo pipefail
cd "$(dirname "$0")/.."
cli=${CLI:-src/AlexNet.Cli/bin/Release/net10.0/alexnet}
data=${DATA:-data/fmnist}
out=${OUT:-runs/fine-tune}
epoch_counts=${EPOCHS:-"1 2 5 15"}
seed=${SEED:-1}
[ -x "$cli" ] || { echo "build first: dotnet build AlexNet.Pipeline.sln -c Release" >&2; exit 2; }
[ -d "$data/train" ] || "$cli" import fashion-mnist --out "$data" >/dev/null

# Labels 0-4 and 5-9 of Fashion-MNIST, by the folder names `alexnet import fashion-mnist` writes.
first=(T-shirt_top Trouser Pullover Dress Coat)
second=(Sandal Shirt Sneaker Bag Ankle_boot)
split() { # split <name> <class...>: copies of those class folders, train and test
  local name=$1; shift
  for part in train test; do
    mkdir -p "$out/data/$name/$part"
    for class in "$@"; do
      [ -d "$out/data/$name/$part/$class" ] || cp -r "$data/$part/$class" "$out/data/$name/$part/$class"
    done
  done
}
mkdir -p "$out"
split first "${first[@]}"
split second "${second[@]}"

run() { # run <label> <data> <limit> <epochs> [train flags...]
  local label=$1 set=$2 limit=$3 epochs=$4; shift 4
  local dir="$out/$label-$epochs"
  rm -rf "$dir"
  local start; start=$(date +%s)
  "$cli" train --data "$out/data/$set/train" --out "$dir" --input-size 64 --limit "$limit" --seed "$seed" --threads 2 \
    --epochs "$epochs" "$@" > "$dir.train.log" 2>&1 || { echo "$label $epochs epochs: training failed ($(tail -1 "$dir.train.log"))"; return; }
  local seconds=$(( $(date +%s) - start ))
  "$cli" eval --model "$dir/model" --data "$out/data/$set/test" --json > "$dir.eval.json"
  python3 - "$label" "$epochs" "$seconds" "$dir" <<'PY'
import json, sys
label, epochs, seconds, run = sys.argv[1:]
report = json.load(open(run + ".eval.json"))
report = report[0] if isinstance(report, list) else report
report = report.get("reports", [report])[0]
metrics = json.load(open(run + "/metrics.json"))
print(f"{label}: {epochs} epochs, test top-1 {1 - report['top1Error']:.4f}, best epoch {metrics.get('bestEpoch')}, {seconds} s", flush=True)
PY
}

run parent first 300 15
parent="$out/parent-15/model"
for epochs in $epoch_counts; do
  run new-classes-fine-tuned second 50 "$epochs" --from "$parent"
  run new-classes-scratch second 50 "$epochs"
done
run same-classes-fine-tuned first 50 15 --from "$parent"
run same-classes-scratch first 50 15
