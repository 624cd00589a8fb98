#!/usr/bin/env python3
"""PyTorch eager reference of the project's AlexNet (grouped layout of the 2012 paper), timed the same way as
`alexnet bench --network-only`: forward under inference mode and SGD training steps on random data already on
the device. Prints one JSON object per (batch, precision)."""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class GroupLrn(nn.Module):
    """The paper's LRN (k=2, n=5, alpha=1e-4, beta=0.75) within each of `groups` channel groups."""

    def __init__(self, groups):
        super().__init__()
        self.groups = groups
        self.lrn = nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)  # torch divides alpha by n

    def forward(self, x):
        n, c, h, w = x.shape
        return self.lrn(x.reshape(n * self.groups, c // self.groups, h, w)).reshape(n, c, h, w)


class AlexNet2012(nn.Module):
    def __init__(self, classes=1000, input_size=224):
        super().__init__()
        s = (input_size + 4 - 11) // 4 + 1
        for _ in range(3):
            s = (s - 3) // 2 + 1
        self.conv1 = nn.Conv2d(3, 96, 11, stride=4, padding=2)
        self.conv2 = nn.Conv2d(96, 256, 5, padding=2, groups=2)
        self.conv3 = nn.Conv2d(256, 384, 3, padding=1)
        self.conv4 = nn.Conv2d(384, 384, 3, padding=1, groups=2)
        self.conv5 = nn.Conv2d(384, 256, 3, padding=1, groups=2)
        self.fc6 = nn.Linear(256 * s * s, 4096)
        self.fc7 = nn.Linear(4096, 4096)
        self.fc8 = nn.Linear(4096, classes)
        self.lrn1, self.lrn2 = GroupLrn(2), GroupLrn(2)
        self.drop6, self.drop7 = nn.Dropout(0.5), nn.Dropout(0.5)

    def forward(self, x):
        x = F.max_pool2d(self.lrn1(F.relu(self.conv1(x))), 3, 2)
        x = F.max_pool2d(self.lrn2(F.relu(self.conv2(x))), 3, 2)
        x = F.relu(self.conv4(F.relu(self.conv3(x))))
        x = F.max_pool2d(F.relu(self.conv5(x)), 3, 2).flatten(1)
        x = self.drop6(F.relu(self.fc6(x)))
        x = self.drop7(F.relu(self.fc7(x)))
        return self.fc8(x)


def measure(batch, precision, steps, input_size, classes, tf32, channels_last):
    dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True
    device = torch.device("cuda:0")
    model = AlexNet2012(classes, input_size).to(device=device, dtype=dtype)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    x = torch.randn(batch, 3, input_size, input_size, device=device, dtype=dtype).to(memory_format=memory_format)
    y = torch.randint(0, classes, (batch,), device=device)

    model.eval()
    with torch.inference_mode():
        for _ in range(3):
            model(x)
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(steps):
            model(x)
        torch.cuda.synchronize()
        forward = batch * steps / (time.perf_counter() - start)

    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def step():
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x).float(), y).backward()
        optimizer.step()

    for _ in range(3):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    train = batch * steps / (time.perf_counter() - start)
    return {"side": "pytorch", "torch": torch.__version__, "device": torch.cuda.get_device_name(0), "batch": batch,
            "precision": precision, "tf32": tf32, "channelsLast": channels_last,
            "forwardImagesPerSecond": forward, "trainImagesPerSecond": train}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", default="128,256,1024")
    parser.add_argument("--precisions", default="fp32,fp16,bf16")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--input-size", type=int, default=224)
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--tf32", action="store_true")
    parser.add_argument("--channels-last", action="store_true")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device visible to PyTorch")
    for batch in [int(b) for b in args.batches.split(",")]:
        for precision in args.precisions.split(","):
            try:
                print(json.dumps(measure(batch, precision, args.steps, args.input_size, args.classes, args.tf32, args.channels_last)), flush=True)
            except RuntimeError as error:  # e.g. out of memory at a large batch
                print(json.dumps({"side": "pytorch", "batch": batch, "precision": precision, "error": str(error)[:300]}), flush=True)
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
