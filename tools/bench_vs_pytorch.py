#!/usr/bin/env python3
"""RangeSeg (fp32, bf16) beside PyTorch (fp32; bf16 autocast + channels_last), in one run.

On a CPU without AVX-512 (no bf16 kernels for either), RangeSeg fp32 beside PyTorch fp32 and fp32
channels_last, each ratio against the faster of the two.

Alternates the four in every round, training step (batch 2) then inference (batch 1), so that
a busy neighbour slows all of them alike; prints each one's median over the rounds' medians,
the range of the rounds' medians, and the ratios the targets of issue 12 use:
RangeSeg bf16 / PyTorch bf16 (target <= 0.75) and RangeSeg fp32 / PyTorch fp32 (target <= 0.85).

    tools/bench_vs_pytorch.py --rangeseg .build/release/rangeseg --python ../.venv-torch/bin/python [--rounds 3]

Run by `tools/bench pytorch`. Without a PyTorch interpreter it times RangeSeg alone.

With --cpu-time, every run has one thread (OMP_NUM_THREADS=1, torch.set_num_threads(1)) and the
figures are CPU milliseconds per step instead of wall-clock ones: the work, which a busy
neighbour hardly changes (`tools/bench pytorch-cpu`). The targets are wall-clock ratios with two
threads on a quiet machine; this mode is for a machine that is not quiet.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


CPU_TIME = False


def run(cmd):
    env = dict(os.environ)
    if CPU_TIME:
        env["OMP_NUM_THREADS"] = "1"
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return out


def rangeseg_median(binary, job, precision, steps):
    args = [binary, "bench", job, "--precision", precision, "--steps", str(steps)]
    if job == "train":
        args += ["--loss", "ce"]
    out = run(args)
    m = re.search(r"CPU time\s+([0-9.]+) ms" if CPU_TIME else r"median\s+([0-9.]+) ms", out)
    mem = re.search(r"peak memory\s+([0-9.]+) GB", out)
    return float(m.group(1)), float(mem.group(1)) if mem else None


def pytorch_median(python, job, variant, steps):
    out = run([python, os.path.join(HERE, "pytorch_bench.py"), "--variants", variant, "--mode", job,
               "--steps", str(steps)] + (["--threads", "1"] if CPU_TIME else []))
    pattern = (rf"pytorch {re.escape(variant)} {job}: .*CPU time ([0-9.]+) ms" if CPU_TIME
               else rf"pytorch {re.escape(variant)} {job}: median ([0-9.]+) ms")
    return float(re.search(pattern, out).group(1))


def cpu_has_avx512():
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("flags") and " avx512f" in line for line in f)
    except OSError:
        return True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rangeseg", required=True)
    parser.add_argument("--python", default=None, help="a Python with PyTorch (omit to time RangeSeg alone)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--cpu-time", action="store_true", help="one thread everywhere; CPU ms per step")
    parser.add_argument("--bf16", choices=["auto", "yes", "no"], default="auto",
                        help="time the bf16 variants (auto: where the CPU has AVX-512)")
    args = parser.parse_args()
    global CPU_TIME
    CPU_TIME = args.cpu_time
    if CPU_TIME:
        print("one thread everywhere; figures are CPU milliseconds per step", flush=True)

    # Without AVX-512 neither side has bf16 kernels: RangeSeg runs --precision bf16 as fp32 and
    # PyTorch's bf16 autocast is 8-10 times slower than its fp32 (AMD EPYC with AVX2, 2026-12-01),
    # so PyTorch's best there is fp32, plain or channels_last; both are timed.
    bf16 = cpu_has_avx512() if args.bf16 == "auto" else args.bf16 == "yes"
    if not bf16:
        print("this CPU has no AVX-512: no bf16 kernels on either side; comparing fp32 with PyTorch fp32 "
              "and fp32 channels_last", flush=True)
    subjects = [("RangeSeg fp32", "rs", "fp32")] + ([("RangeSeg bf16", "rs", "bf16")] if bf16 else [])
    if args.python:
        subjects += [("PyTorch fp32", "pt", "fp32")]
        subjects += ([("PyTorch bf16 autocast, channels_last", "pt", "bf16-cl")] if bf16
                     else [("PyTorch fp32, channels_last", "pt", "fp32-cl")])
    results = {(name, job): [] for name, _, _ in subjects for job in ("train", "infer")}
    memory = {}
    for r in range(args.rounds):
        for job in ("train", "infer"):
            for name, kind, setting in subjects:
                if kind == "rs":
                    ms, mem = rangeseg_median(args.rangeseg, job, setting, args.steps)
                    if job == "train":
                        memory[name] = max(memory.get(name, 0), mem or 0)
                else:
                    ms = pytorch_median(args.python, job, setting, args.steps)
                results[(name, job)].append(ms)
                print(f"round {r + 1} {job:5} {name:40} {ms:8.1f} ms", flush=True)

    def summary(name, job):
        v = results[(name, job)]
        return statistics.median(v), min(v), max(v)

    print()
    print(f"{'':40} {'training step (batch 2)':>28} {'inference (batch 1)':>28}")
    for name, _, _ in subjects:
        cells = []
        for job in ("train", "infer"):
            med, lo, hi = summary(name, job)
            cells.append(f"{med:7.1f} ms ({lo:.0f}-{hi:.0f})")
        print(f"{name:40} {cells[0]:>28} {cells[1]:>28}")
    for name, mem in memory.items():
        print(f"peak memory of {name} training: {mem:.2f} GB")
    if args.python:
        print()
        pairs = ([("RangeSeg bf16", ["PyTorch bf16 autocast, channels_last"], 0.75)] if bf16 else [])
        pairs += [("RangeSeg fp32", ["PyTorch fp32"] + ([] if bf16 else ["PyTorch fp32, channels_last"]), 0.85)]
        for ours, candidates, target in pairs:
            for job in ("train", "infer"):
                # Against PyTorch's best setting for this job: the faster of the candidates.
                theirs = min(candidates, key=lambda c: statistics.median(results[(c, job)]))
                a = results[(ours, job)]
                b = results[(theirs, job)]
                ratio = statistics.median(a) / statistics.median(b)
                per_round = [x / y for x, y in zip(a, b)]
                print(f"{ours} / {theirs}, {job}: {ratio:.2f} (rounds {min(per_round):.2f}-{max(per_round):.2f}; "
                      f"target <= {target})")


if __name__ == "__main__":
    sys.exit(main())
