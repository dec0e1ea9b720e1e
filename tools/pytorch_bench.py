#!/usr/bin/env python3
"""Times the PyTorch reference RangeNet-lite on this machine's CPU, beside `rangeseg bench`.

Needs PyTorch (not a project dependency). Same shapes as `rangeseg bench train|infer`:
5 x 64 x 2048 inputs, 20 classes, batch 2 for a training step (forward, cross-entropy,
backward, SGD) and batch 1 for inference (eval mode, no gradients).

    pytorch_bench.py [--threads 2] [--steps 5]
"""
import argparse
import os
import sys
import time

import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--reference", default=os.path.join(os.path.dirname(__file__), "../../shared/reference"))
    args = parser.parse_args()
    sys.path.insert(0, args.reference)
    from rangenet_lite import RangeNetLite

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = RangeNetLite()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(2, 5, 64, 2048)
    y = torch.randint(0, 20, (2, 64, 2048))

    def train_step():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

    def timed(fn, steps, warmup=2):
        for _ in range(warmup):
            fn()
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return sorted(times)[len(times) // 2] * 1e3

    model.train()
    train_ms = timed(train_step, args.steps)
    model.eval()
    x1 = x[:1]
    with torch.no_grad():
        infer_ms = timed(lambda: model(x1), args.steps * 2)
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads: "
          f"training step (batch 2) {train_ms:.0f} ms, inference (batch 1) {infer_ms:.1f} ms (medians)")


if __name__ == "__main__":
    main()
