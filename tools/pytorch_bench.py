#!/usr/bin/env python3
"""Times a PyTorch reference network on this machine's CPU, beside `rangeseg bench`.

Needs PyTorch (not a project dependency). The networks: rangenet-lite (the project's reference,
../shared/reference/rangenet_lite.py) and those of tools/reference_networks.py (darknet21,
darknet53, salsanext), each with its default dropout. Same shapes as `rangeseg bench
train|infer`: 5 x 64 x 2048 inputs (--height, --width), 20 classes; a training step is batch 2
(train mode: forward, cross-entropy, backward, SGD with momentum), inference batch 1 (eval mode,
no gradients).

Variants (--variants, comma-separated; default all four where the CPU has AVX512-BF16, else the
fp32 ones, so that PyTorch's fastest setting is among them):
  fp32      float32, NCHW (PyTorch's default)
  fp32-cl   float32, channels_last
  bf16      bf16 autocast (torch.autocast("cpu", dtype=torch.bfloat16)), NCHW
  bf16-cl   bf16 autocast and channels_last

    pytorch_bench.py [--network darknet21] [--threads 2] [--steps 5] [--variants fp32,bf16-cl] [--mode train,infer]

Prints a header naming the network, then one line per variant and mode, e.g.
    pytorch fp32 train: median 801.2 ms (steps 799.0 803.4 ...); CPU time 1580.2 ms
which tools/bench_vs_pytorch.py reads. The CPU time (median, all threads) is the steadier measure
on a busy machine with --threads 1, as `rangeseg bench`'s CPU time with OMP_NUM_THREADS=1.
"""
import argparse
import contextlib
import os
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
VARIANTS = ("fp32", "fp32-cl", "bf16", "bf16-cl")
NETWORK_NAMES = ("rangenet-lite", "darknet21", "darknet53", "salsanext")
CLASSES = 20
CHANNELS = 5


def build(network, reference_dir):
    """A freshly initialised network (seeded), with the dropout of its definition."""
    torch.manual_seed(0)
    if network == "rangenet-lite":
        sys.path.insert(0, reference_dir)
        from rangenet_lite import RangeNetLite
        return RangeNetLite(in_ch=CHANNELS, n_classes=CLASSES)
    from reference_networks import NETWORKS  # beside this file
    return NETWORKS[network]()


def timed(fn, steps, warmup):
    """Wall-clock and process CPU milliseconds of each of `steps` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    times, cpu = [], []
    for _ in range(steps):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return times, cpu


def run(model, variant, mode, args):
    """Times one variant of one mode on `model` (moved to the variant's memory format)."""
    channels_last = variant.endswith("-cl")
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    if variant.startswith("bf16"):
        autocast = lambda: torch.autocast("cpu", dtype=torch.bfloat16)  # noqa: E731
    else:
        autocast = contextlib.nullcontext
    generator = torch.Generator().manual_seed(1)
    if mode == "train":
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x = torch.randn(2, CHANNELS, args.height, args.width, generator=generator).contiguous(memory_format=fmt)
        y = torch.randint(0, CLASSES, (2, args.height, args.width), generator=generator)
        model.train()

        def step():
            optimizer.zero_grad(set_to_none=True)
            with autocast():
                # Under autocast, cross_entropy runs in float32 (on the bf16 logits upcast).
                loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()

        return timed(step, args.steps, args.warmup)
    model.eval()
    x = torch.randn(1, CHANNELS, args.height, args.width, generator=generator).contiguous(memory_format=fmt)

    def infer():
        with torch.no_grad(), autocast():
            model(x)

    return timed(infer, args.steps, args.warmup)


def cpu_has_bf16():
    """Whether /proc/cpuinfo lists avx512_bf16 (without it, PyTorch's bf16 is emulated or slow)."""
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("flags") and "avx512_bf16" in line.split() for line in f)
    except OSError:
        return False


def comma_list(allowed):
    def parse(text):
        items = [s.strip() for s in text.split(",") if s.strip()]
        unknown = [s for s in items if s not in allowed]
        if unknown or not items:
            raise argparse.ArgumentTypeError(f"{', '.join(unknown) or 'nothing'} not among {', '.join(allowed)}")
        return items
    return parse


def main():
    parser = argparse.ArgumentParser(description="Times a PyTorch reference network on the CPU.")
    parser.add_argument("--network", choices=NETWORK_NAMES, default="rangenet-lite",
                        help="the network (default rangenet-lite)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads (default: all CPUs)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per variant and mode (default 5)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps before them (default 2)")
    parser.add_argument("--variants", type=comma_list(VARIANTS),
                        default=list(VARIANTS) if cpu_has_bf16() else ["fp32", "fp32-cl"],
                        help="comma list of " + ", ".join(VARIANTS) + " (default all four where the CPU "
                             "has AVX512-BF16, else fp32,fp32-cl)")
    parser.add_argument("--mode", type=comma_list(("train", "infer")), default=["train", "infer"],
                        help="train, infer or both (default train,infer)")
    parser.add_argument("--height", type=int, default=64, help="range-image rows (default 64)")
    parser.add_argument("--width", type=int, default=2048, help="range-image columns (default 2048)")
    parser.add_argument("--reference", default=os.path.join(HERE, "../../shared/reference"),
                        help="directory of rangenet_lite.py (default ../shared/reference)")
    args = parser.parse_args()
    if args.steps < 1:
        parser.error("--steps must be at least 1")

    torch.set_num_threads(args.threads)
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads; {args.network}, "
          f"training step batch 2, inference batch 1, {CHANNELS} x {args.height} x {args.width}, "
          f"{CLASSES} classes", flush=True)
    for mode in args.mode:
        for variant in args.variants:
            # A fresh network per variant: no optimiser state or layout carried over.
            times, cpu = run(build(args.network, args.reference), variant, mode, args)
            print(f"pytorch {variant} {mode}: median {statistics.median(times):.1f} ms "
                  f"(steps {' '.join(f'{t:.1f}' for t in times)}); CPU time {statistics.median(cpu):.1f} ms",
                  flush=True)


if __name__ == "__main__":
    main()
