#!/usr/bin/env python3
"""Times the PyTorch reference RangeNet-lite on this machine's CPU, beside `rangeseg bench`.

Needs PyTorch (not a project dependency). Same shapes as `rangeseg bench train|infer`:
5 x 64 x 2048 inputs, 20 classes, batch 2 for a training step (forward, cross-entropy,
backward, SGD with momentum) and batch 1 for inference (eval mode, no gradients).

Variants (--variants, comma-separated):
  fp32      float32, NCHW (PyTorch's default)
  fp32-cl   float32, channels_last
  bf16      bf16 autocast (torch.autocast("cpu", dtype=torch.bfloat16)), NCHW
  bf16-cl   bf16 autocast and channels_last (PyTorch's fastest CPU setting)

    pytorch_bench.py [--threads 2] [--steps 5] [--variants fp32,bf16-cl] [--mode train,infer]

Prints one line per variant and mode, e.g.
    pytorch fp32 train: median 801.2 ms (steps 799.0 803.4 ...); CPU time 1580.2 ms
which tools/bench pytorch reads. The CPU time (median, all threads) is the steadier measure on a
busy machine with --threads 1, as `rangeseg bench`'s CPU time with OMP_NUM_THREADS=1.
"""
import argparse
import contextlib
import os
import sys
import time

import torch


def timed(fn, steps, warmup=2):
    """Wall-clock and process CPU milliseconds of each timed call."""
    for _ in range(warmup):
        fn()
    times, cpu = [], []
    for _ in range(steps):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return times, cpu


def median(values):
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def run(variant, mode, steps, RangeNetLite):
    bf16 = variant.startswith("bf16")
    channels_last = variant.endswith("-cl")
    torch.manual_seed(0)
    model = RangeNetLite()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if bf16 else contextlib.nullcontext
    if mode == "train":
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x = torch.randn(2, 5, 64, 2048).contiguous(memory_format=fmt)
        y = torch.randint(0, 20, (2, 64, 2048))
        model.train()

        def step():
            optimizer.zero_grad(set_to_none=True)
            with autocast():
                # Under autocast, cross_entropy runs in float32 (on the bf16 logits upcast).
                loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()

        return timed(step, steps)
    model.eval()
    x1 = torch.randn(1, 5, 64, 2048).contiguous(memory_format=fmt)

    def infer():
        with torch.no_grad(), autocast():
            model(x1)

    return timed(infer, steps * 2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--variants", default="fp32,bf16-cl")
    parser.add_argument("--mode", default="train,infer")
    parser.add_argument("--reference", default=os.path.join(os.path.dirname(__file__), "../../shared/reference"))
    args = parser.parse_args()
    sys.path.insert(0, args.reference)
    from rangenet_lite import RangeNetLite

    torch.set_num_threads(args.threads)
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"training step batch 2, inference batch 1, 5 x 64 x 2048, 20 classes", flush=True)
    for mode in args.mode.split(","):
        for variant in args.variants.split(","):
            if variant not in ("fp32", "fp32-cl", "bf16", "bf16-cl"):
                sys.exit(f"unknown variant {variant}")
            times, cpu = run(variant, mode, args.steps, RangeNetLite)
            print(f"pytorch {variant} {mode}: median {median(times):.1f} ms "
                  f"(steps {' '.join(f'{t:.1f}' for t in times)}); CPU time {median(cpu):.1f} ms", flush=True)


if __name__ == "__main__":
    main()
