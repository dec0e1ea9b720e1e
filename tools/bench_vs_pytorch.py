#!/usr/bin/env python3
"""RangeSeg beside PyTorch's fastest setting on this CPU, network by network, in one run.

The project's rule: a comparison with PyTorch is made side by side in one run on the same
machine, against PyTorch's fastest setting there (fp32 NCHW, fp32 channels_last, bf16 autocast
where the CPU has it: all of them, every time), reported as a ratio.

For each network of --networks (default rangenet-lite), every round times, one after another,
the training step (batch 2, cross-entropy, SGD with momentum) and then inference (batch 1) of

  RangeSeg  fp32, and bf16 where the CPU has AVX512-BF16 (`rangeseg bench train|infer`); and,
            where the CPU has AVX-512, the training step with the opt-in `--winograd always`
            (oneDNN's Winograd kernels in the forward pass of 3 x 3 stride-1 convolutions too;
            the default runs them in the backward passes only, see docs/performance.md),
            reported beside the defaults, never instead of them
  PyTorch   fp32 NCHW, fp32 channels_last, and where the CPU has AVX512-BF16 bf16 autocast
            NCHW and channels_last (tools/pytorch_bench.py)

so that a busy neighbour slows all of them alike. Per network and mode it prints each one's
median over the rounds (each round's figure is the median of its --steps) and the range of the
rounds, names PyTorch's fastest setting (the lowest median) and reports RangeSeg's fastest / PyTorch's
fastest as the ratio, beside each RangeSeg precision / PyTorch's fastest (below 1: RangeSeg is
faster). "RangeSeg's fastest" is over its default settings; the opt-in gets a ratio line of its own. The header names the date, the CPU and its AVX2 / AVX-512 / AVX512-BF16 flags.

    tools/bench_vs_pytorch.py --rangeseg .build/release/rangeseg --python ../.venv-torch/bin/python \\
        [--networks rangenet-lite,darknet21,darknet53,salsanext] [--rounds 3] [--steps 5]

Run by `tools/bench pytorch` (NETWORKS=a,b,...). Without a PyTorch interpreter it times RangeSeg
alone. Without AVX512-BF16 neither side runs bf16 natively (RangeSeg runs it as fp32 or emulated,
PyTorch's autocast is several times slower than its fp32), so only fp32 is timed; --bf16 yes|no
overrides the check; --winograd yes|no overrides the AVX-512 check for the opt-in.

With --cpu-time, every run has one thread (OMP_NUM_THREADS=1, torch.set_num_threads(1)) and the
figures are CPU milliseconds per step instead of wall-clock ones: the work, which a busy
neighbour hardly changes (`tools/bench pytorch-cpu`). The figures the rule asks for are wall-clock
ones with every thread on a quiet machine; this mode is for a machine that is not quiet.
"""
import argparse
import datetime
import os
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
JOBS = ("train", "infer")
JOB_TITLES = {"train": "training step (batch 2)", "infer": "inference (batch 1)"}
PYTORCH_LABELS = {"fp32": "fp32 NCHW", "fp32-cl": "fp32 channels_last",
                  "bf16": "bf16 autocast NCHW", "bf16-cl": "bf16 autocast channels_last"}


@dataclass(frozen=True)
class CPU:
    """The model name and instruction-set flags of /proc/cpuinfo."""
    model: str
    flags: frozenset

    @classmethod
    def read(cls):
        model, flags = "unknown CPU", frozenset()
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    key, _, value = line.partition(":")
                    if key.strip() == "model name" and model == "unknown CPU":
                        model = value.strip()
                    elif key.strip() == "flags" and not flags:
                        flags = frozenset(value.split())
        except OSError:
            pass
        return cls(model, flags)

    @property
    def has_avx512(self):
        return "avx512f" in self.flags

    @property
    def has_bf16(self):
        return "avx512_bf16" in self.flags

    def summary(self):
        def yes(flag):
            return "yes" if flag in self.flags else "no"
        return f"AVX2 {yes('avx2')}, AVX-512 {yes('avx512f')}, AVX512-BF16 {yes('avx512_bf16')}"


@dataclass(frozen=True)
class Subject:
    """One thing timed: RangeSeg at a precision (fp32, bf16; fp32+winograd-always, the training
    step's opt-in `--winograd always`) or PyTorch in a variant of pytorch_bench.py."""
    side: str  # "RangeSeg" or "PyTorch"
    setting: str

    @property
    def opt_in(self):
        """A setting the user must ask for (not a default), timed for the training step only."""
        return self.side == "RangeSeg" and self.setting.endswith("+winograd-always")

    @property
    def jobs(self):
        return ("train",) if self.opt_in else JOBS

    @property
    def label(self):
        name = PYTORCH_LABELS[self.setting] if self.side == "PyTorch" else self.setting
        return f"{self.side} {name}"


@dataclass
class Figures:
    """Per subject and job, the figure of every round (ms); peak memory of RangeSeg's training."""
    rounds: dict = field(default_factory=dict)  # (Subject, job) -> [ms per round]
    peak_gb: dict = field(default_factory=dict)  # Subject -> GB

    def add(self, subject, job, ms):
        self.rounds.setdefault((subject, job), []).append(ms)

    def median(self, subject, job):
        return statistics.median(self.rounds[(subject, job)])

    def fastest(self, subjects, job):
        return min(subjects, key=lambda s: self.median(s, job))

    def ratio(self, ours, theirs, job):
        """Median over median, and the lowest and highest ratio of one round's figures."""
        per_round = [a / b for a, b in zip(self.rounds[(ours, job)], self.rounds[(theirs, job)])]
        return self.median(ours, job) / self.median(theirs, job), min(per_round), max(per_round)


class Runner:
    """Runs `rangeseg bench` and tools/pytorch_bench.py and reads their figures."""

    def __init__(self, rangeseg, python, steps, width, cpu_time):
        self.rangeseg_binary, self.python = rangeseg, python
        self.steps, self.width, self.cpu_time = steps, width, cpu_time

    def run(self, cmd):
        env = dict(os.environ)
        if self.cpu_time:
            env["OMP_NUM_THREADS"] = "1"
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            sys.exit(f"bench_vs_pytorch: `{' '.join(cmd)}` failed (exit {done.returncode}):\n"
                     f"{(done.stderr or done.stdout).strip()}")
        return done.stdout

    def rangeseg_command(self, network, job, setting, steps, width, warmup=None):
        precision, _, option = setting.partition("+")
        cmd = [self.rangeseg_binary, "bench", job, "--network", network, "--precision", precision,
               "--steps", str(steps), "--width", str(width)]
        if job == "train":
            cmd += ["--loss", "ce", "--batch", "2"] + (["--winograd", "always"] if option == "winograd-always" else [])
        return cmd + (["--warmup", str(warmup)] if warmup is not None else [])

    def pytorch_command(self, network, job, variant, steps, width, height=64, warmup=None):
        cmd = [self.python, os.path.join(HERE, "pytorch_bench.py"), "--network", network, "--variants", variant,
               "--mode", job, "--steps", str(steps), "--height", str(height), "--width", str(width)]
        cmd += ["--threads", "1"] if self.cpu_time else []
        return cmd + (["--warmup", str(warmup)] if warmup is not None else [])

    def rangeseg(self, network, job, precision):
        """Milliseconds per step (wall-clock median, or CPU time), and the peak memory in GB."""
        out = self.run(self.rangeseg_command(network, job, precision, self.steps, self.width))
        figure = re.search(r"CPU time\s+([0-9.]+) ms" if self.cpu_time else r"median\s+([0-9.]+) ms", out)
        memory = re.search(r"peak memory\s+([0-9.]+) GB", out)
        return float(figure.group(1)), float(memory.group(1)) if memory else None

    def pytorch(self, network, job, variant):
        out = self.run(self.pytorch_command(network, job, variant, self.steps, self.width))
        line = re.search(rf"^pytorch {re.escape(variant)} {job}: median ([0-9.]+) ms.*CPU time ([0-9.]+) ms", out, re.M)
        return float(line.group(2 if self.cpu_time else 1))

    def check(self, network, pytorch):
        """Both sides know the network: one tiny inference each (64 x 32 / 16 x 32). Returns PyTorch's header."""
        self.run(self.rangeseg_command(network, "infer", "fp32", steps=1, width=32, warmup=0))
        if pytorch:
            return self.run(self.pytorch_command(network, "infer", "fp32", steps=1, width=32, height=16,
                                                 warmup=0)).splitlines()[0]
        return None


def subjects_for(bf16, pytorch, winograd=False):
    precisions = ["fp32", "bf16"] if bf16 else ["fp32"]
    ours = [Subject("RangeSeg", p) for p in precisions] + ([Subject("RangeSeg", "fp32+winograd-always")] if winograd else [])
    theirs = [Subject("PyTorch", v) for p in precisions for v in (p, p + "-cl")] if pytorch else []
    return ours, theirs


def print_network(network, figures, ours, theirs):
    print()
    print(f"{network:40} {JOB_TITLES['train']:>28} {JOB_TITLES['infer']:>28}")
    for subject in ours + theirs:
        cells = []
        for job in JOBS:
            v = figures.rounds.get((subject, job))
            cells.append(f"{statistics.median(v):7.1f} ms ({min(v):.0f}-{max(v):.0f})" if v else "-")
        print(f"{subject.label:40} {cells[0]:>28} {cells[1]:>28}")
    for subject, gb in figures.peak_gb.items():
        print(f"peak memory of {subject.label} training: {gb:.2f} GB")
    if not theirs:
        return
    for job in JOBS:
        best = figures.fastest(theirs, job)
        print(f"{network} {job}: PyTorch's fastest is {PYTORCH_LABELS[best.setting]} ({figures.median(best, job):.1f} ms)")
        for subject in ours:
            if job not in subject.jobs:
                continue
            ratio, low, high = figures.ratio(subject, best, job)
            print(f"  {subject.label} / PyTorch's fastest: {ratio:.2f} (rounds {low:.2f}-{high:.2f})"
                  + (" (opt-in, not a default)" if subject.opt_in else ""))
        mine = figures.fastest(defaults(ours), job)
        ratio, low, high = figures.ratio(mine, best, job)
        print(f"  ratio, RangeSeg's fastest ({mine.setting}) / PyTorch's fastest ({best.setting}): "
              f"{ratio:.2f} (rounds {low:.2f}-{high:.2f})")


def defaults(ours):
    """RangeSeg's settings that need no opt-in."""
    return [s for s in ours if not s.opt_in]


def print_summary(all_figures, ours, theirs):
    print()
    print("RangeSeg's fastest default setting / PyTorch's fastest (medians over the rounds; below 1: RangeSeg is faster)")
    print(f"{'network':16} {'mode':6} {'RangeSeg fastest':>18} {'PyTorch fastest':>40} {'ratio':>6}")
    for network, figures in all_figures.items():
        for job in JOBS:
            mine, best = figures.fastest(defaults(ours), job), figures.fastest(theirs, job)
            ratio, _, _ = figures.ratio(mine, best, job)
            print(f"{network:16} {job:6} {mine.setting:>5} {figures.median(mine, job):9.1f} ms "
                  f"{PYTORCH_LABELS[best.setting]:>27} {figures.median(best, job):9.1f} ms {ratio:6.2f}")
            for subject in ours:
                if subject.opt_in and job in subject.jobs:
                    ratio, _, _ = figures.ratio(subject, best, job)
                    print(f"{'':16} {'':6} {subject.setting} (opt-in) {figures.median(subject, job):9.1f} ms "
                          f"{'':>27} {'':>12} {ratio:6.2f}")


def main():
    parser = argparse.ArgumentParser(description="RangeSeg beside PyTorch's fastest setting, network by network.")
    parser.add_argument("--rangeseg", required=True, help="the rangeseg binary (a release build)")
    parser.add_argument("--python", default=None, help="a Python with PyTorch (omit to time RangeSeg alone)")
    parser.add_argument("--networks", default="rangenet-lite",
                        help="comma list of networks, e.g. rangenet-lite,darknet21,darknet53,salsanext "
                             "(default rangenet-lite)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of alternation (default 3)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per run, both sides (default 5)")
    parser.add_argument("--width", type=int, default=2048,
                        help="range-image width, both sides (default 2048; the height is 64)")
    parser.add_argument("--cpu-time", action="store_true", help="one thread everywhere; CPU ms per step")
    parser.add_argument("--bf16", choices=["auto", "yes", "no"], default="auto",
                        help="time the bf16 settings (auto: where the CPU has AVX512-BF16)")
    parser.add_argument("--winograd", choices=["auto", "yes", "no"], default="auto",
                        help="time RangeSeg's opt-in --winograd always training step too (auto: where the CPU has AVX-512)")
    args = parser.parse_args()
    networks = [n.strip() for n in args.networks.split(",") if n.strip()]
    if not networks or args.rounds < 1 or args.steps < 1:
        parser.error("--networks must name a network, --rounds and --steps be at least 1")

    cpu = CPU.read()
    bf16 = cpu.has_bf16 if args.bf16 == "auto" else args.bf16 == "yes"
    runner = Runner(args.rangeseg, args.python, args.steps, args.width, args.cpu_time)
    winograd = cpu.has_avx512 if args.winograd == "auto" else args.winograd == "yes"
    ours, theirs = subjects_for(bf16, pytorch=args.python is not None, winograd=winograd)

    print(f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, {cpu.model} ({os.cpu_count()} CPUs; "
          f"{cpu.summary()}), load average {os.getloadavg()[0]:.2f}", flush=True)
    # Instruction sets held back on purpose (e.g. both sides on AVX2 on an AVX-512 machine).
    limits = [f"{k}={os.environ[k]}" for k in ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY")
              if os.environ.get(k)]
    if limits:
        print(f"instruction sets limited by {' '.join(limits)} (both sides inherit them)", flush=True)
    header = None
    for network in networks:
        header = runner.check(network, pytorch=args.python is not None) or header
    if header:
        print(header.split(";")[0], flush=True)
    print(f"networks {', '.join(networks)}; rounds {args.rounds}, steps {args.steps} per run; 5 x 64 x {args.width}, "
          f"20 classes", flush=True)
    print("one thread everywhere; figures are CPU milliseconds per step" if args.cpu_time
          else f"wall clock; RangeSeg threads: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}",
          flush=True)
    if not bf16:
        print("no AVX512-BF16 on this CPU (or --bf16 no): fp32 only, PyTorch fp32 NCHW and channels_last",
              flush=True)

    all_figures = {}
    for network in networks:
        print(f"\n== {network}", flush=True)
        figures = Figures()
        for r in range(args.rounds):
            for job in JOBS:
                for subject in ours + theirs:
                    if job not in subject.jobs:
                        continue
                    if subject.side == "RangeSeg":
                        ms, gb = runner.rangeseg(network, job, subject.setting)
                        if job == "train" and gb is not None:
                            figures.peak_gb[subject] = max(figures.peak_gb.get(subject, 0), gb)
                    else:
                        ms = runner.pytorch(network, job, subject.setting)
                    figures.add(subject, job, ms)
                    print(f"round {r + 1} {job:5} {subject.label:40} {ms:8.1f} ms", flush=True)
        print_network(network, figures, ours, theirs)
        all_figures[network] = figures
    if theirs:
        print_summary(all_figures, ours, theirs)


if __name__ == "__main__":
    sys.exit(main())
