#!/usr/bin/env bash
# TorchSharp AlexNet against PyTorch eager on the same NVIDIA GPU, same batch and precision.
# Runs on a Linux GPU machine with PyTorch (CUDA) installed and no network. The .NET side comes along as
# artifacts/gpu/alexnet.tar.gz: a self-contained publish of the CLI without libtorch (scripts/gpu-publish.sh),
# which loads the CUDA libtorch of the installed PyTorch.
# Usage: scripts/gpu-bench.sh [results folder]   (default: $OUT or artifacts/gpu-results)
set -uo pipefail
cd "$(dirname "$0")/.."
results=${1:-${OUT:-artifacts/gpu-results}}
mkdir -p "$results"
batches=${BATCHES:-128,256,1024}
precisions=${PRECISIONS:-fp32,fp16,bf16}

{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())'; } | tee "$results/machine.txt"

echo "== PyTorch eager reference"
python3 scripts/gpu/alexnet_reference.py --batches "$batches" --precisions "$precisions" --tf32 --channels-last | tee "$results/pytorch.jsonl"

echo "== TorchSharp"
app="$results/alexnet"
mkdir -p "$app"
tar -xzf artifacts/gpu/alexnet.tar.gz -C "$app"
torch_lib=$(python3 -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
# TorchSharp's shim (built against libtorch 2.10) resolves libtorch*.so and the CUDA libraries from here.
export LD_LIBRARY_PATH="$torch_lib:${LD_LIBRARY_PATH:-}"
ls "$torch_lib" > "$results/torch-lib.txt"
"$app/alexnet" info --json > /dev/null 2> "$results/torchsharp-load.txt" && echo "TorchSharp CLI starts" | tee -a "$results/torchsharp-load.txt"
: > "$results/torchsharp.jsonl"
for batch in ${batches//,/ }; do
  for precision in ${precisions//,/ }; do
    if ! "$app/alexnet" bench --network-only --device cuda:0 --layout Grouped --precision "$precision" --tf32 \
         --batch-size "$batch" --forward-batches 20 --json 2>> "$results/torchsharp-errors.txt" | tr -d '\n' >> "$results/torchsharp.jsonl"; then
      echo "{\"batch\": $batch, \"precision\": \"$precision\", \"error\": \"see torchsharp-errors.txt\"}" >> "$results/torchsharp.jsonl"
    fi
    echo >> "$results/torchsharp.jsonl"
  done
done
# Two towers on two GPUs, when there are two.
if [ "$(nvidia-smi -L | wc -l)" -ge 2 ]; then
  "$app/alexnet" bench --network-only --device cuda:0,cuda:1 --precision fp32 --batch-size 256 --json > "$results/two-tower.json" 2>&1 || true
fi

python3 scripts/gpu/compare.py "$results/pytorch.jsonl" "$results/torchsharp.jsonl" | tee "$results/table.md"
