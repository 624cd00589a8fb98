#!/usr/bin/env python3
"""Joins the PyTorch and TorchSharp JSON lines by (batch, precision) and prints the ratio table for
docs/benchmarks.md (targets from QUALITY.md: forward >= 1.0, training >= 0.95)."""
import json
import sys


def load(path):
    rows = {}
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if line.startswith("{"):
                row = json.loads(line)
                rows[(int(row["batch"]), row["precision"])] = row
    return rows


def main(pytorch_path, torchsharp_path):
    reference, ours = load(pytorch_path), load(torchsharp_path)
    print("| batch | precision | PyTorch fwd img/s | TorchSharp fwd img/s | ratio (>= 1.0) | PyTorch train img/s | TorchSharp train img/s | ratio (>= 0.95) |")
    print("|---|---|---|---|---|---|---|---|")
    for key in sorted(reference):
        p, t = reference[key], ours.get(key, {})
        if "error" in p or "error" in t or not t:
            print(f"| {key[0]} | {key[1]} | {p.get('error', '')[:40]} | {t.get('error', 'missing')[:40]} | - | - | - | - |")
            continue
        pf, tf = p["forwardImagesPerSecond"], t["forwardImagesPerSecond"]
        pt, tt = p["trainImagesPerSecond"], t["trainImagesPerSecond"]
        print(f"| {key[0]} | {key[1]} | {pf:.0f} | {tf:.0f} | {tf / pf:.3f} | {pt:.0f} | {tt:.0f} | {tt / pt:.3f} |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
