#!/usr/bin/env bash
# Builds what scripts/gpu-bench.sh carries to the GPU machine: a self-contained linux-x64 publish of the CLI
# without any libtorch (TorchBackend=external), packed as artifacts/gpu/alexnet.tar.gz.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf artifacts/gpu/publish && mkdir -p artifacts/gpu
dotnet publish src/AlexNet.Cli -c Release -r linux-x64 --self-contained true -p:TorchBackend=external -o artifacts/gpu/publish
tar -czf artifacts/gpu/alexnet.tar.gz -C artifacts/gpu/publish .
ls -lh artifacts/gpu/alexnet.tar.gz
