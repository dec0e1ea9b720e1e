#!/usr/bin/env python3
"""Writes the network parity fixtures of the test suite (Tests/NetworkFixtures/NAME.safetensors)
from the PyTorch definitions in tools/reference_networks.py.

Every parameter, buffer and input comes from a counter-based hash of its state_dict name that
Swift computes bit for bit the same (Tests/EngineTests/NetworkParityTests.swift), so the
fixture holds only what PyTorch computed, in float64 (the exact answer): in evaluation mode
(running statistics) and in training mode (batch statistics; dropout off), the logits and
samples of every parameter's gradient of the loss sum(logits * R) / logits.numel() with R from
the same hash. The metadata lists the state_dict's names and shapes, and how far PyTorch's own
float32 arithmetic lands from the float64 answer.

Needs PyTorch and safetensors, which are not project dependencies:
    python3 -m venv ../.venv-torch && ../.venv-torch/bin/pip install torch safetensors numpy
    ../.venv-torch/bin/python tools/network_parity.py            # all networks
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(__file__))
from reference_networks import NETWORKS  # noqa: E402
import hashfill  # noqa: E402
from hashfill import uniform  # noqa: E402

# Batch 2 and small images (width divisible by 32, height by 16 for SalsaNext).
SHAPES = {"darknet21": (2, 5, 8, 64), "darknet53": (2, 5, 8, 64), "salsanext": (2, 5, 16, 64)}
SAMPLES = 64
def fill(model):
    """The deterministic state of tools/hashfill.py, copied into the model."""
    state = model.state_dict()
    values = hashfill.fill([(k, list(v.shape)) for k, v in state.items()])
    for name, tensor in state.items():
        tensor.copy_(torch.from_numpy(values[name]).reshape(tensor.shape))


def sample_indices(count):
    return [k * count // SAMPLES for k in range(min(SAMPLES, count))]


def run(name, dtype, training, setting="plain"):
    """Logits and every parameter's gradient of sum(logits * R) / count, in `dtype`, with
    PyTorch's plain CPU kernels, its oneDNN ones ("mkldnn") or channels_last."""
    torch.backends.mkldnn.enabled = setting != "plain"
    shape = SHAPES[name]
    model = NETWORKS[name](dropout=0.0)
    fill(model)
    model = model.to(dtype).train(training)
    x = torch.from_numpy(uniform("input", int(np.prod(shape)))).reshape(shape).to(dtype)
    if setting == "channels_last":
        model, x = model.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    logits = model(x)
    weights = torch.from_numpy(uniform("loss_weights", logits.numel())).reshape(logits.shape).to(dtype)
    (logits * weights).sum().div(logits.numel()).backward()
    return x, logits.detach(), {n: p.grad.reshape(-1) for n, p in model.named_parameters()}, model


def relative_error(grads, exact):
    """sqrt(sum |a - b|^2 / sum |b|^2) over every parameter's sampled gradient."""
    num = den = 0.0
    for n, b in exact.items():
        idx = sample_indices(b.numel())
        num += float(((grads[n][idx].double() - b[idx]) ** 2).sum())
        den += float((b[idx] ** 2).sum())
    return (num / den) ** 0.5


def fixture(name):
    """The exact answer (float64) for the fixture, and how far PyTorch's own float32 is from it."""
    out, metadata = {}, {"torch": torch.__version__}
    for mode, training in [("eval", False), ("train", True)]:
        x, logits, grads, model = run(name, torch.float64, training)
        out["input"] = x
        out[f"{mode}_logits"] = logits
        for pname, g in grads.items():
            out[f"{mode}_grad/{pname}"] = g[sample_indices(g.numel())].clone()
            out[f"{mode}_gradmax/{pname}"] = g.abs().max().reshape(1)
        # PyTorch's own float32 in its three CPU settings: the float32 noise floor.
        for setting in ["plain", "mkldnn", "channels_last"]:
            _, logits32, grads32, _ = run(name, torch.float32, training, setting)
            metadata[f"torch_float32_{setting}_{mode}_logit_error"] = repr(float((logits32.double() - logits).abs().max() / logits.abs().max()))
            metadata[f"torch_float32_{setting}_{mode}_gradient_error"] = repr(relative_error(grads32, grads))
    metadata["state_dict"] = json.dumps([[k, list(v.shape)] for k, v in model.state_dict().items()])
    return {k: v.contiguous().float() for k, v in out.items()}, metadata


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("networks", nargs="*", default=list(SHAPES))
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "../Tests/NetworkFixtures"))
    args = parser.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    os.makedirs(args.out, exist_ok=True)
    for name in args.networks:
        tensors, metadata = fixture(name)
        path = os.path.join(args.out, f"{name}.safetensors")
        save_file(tensors, path, metadata=metadata)
        errors = ", ".join(f"{k[len('torch_float32_'):]} {float(v):.2g}" for k, v in metadata.items() if k.startswith("torch_float32"))
        print(f"{path}: {len(tensors)} tensors; PyTorch float32 against float64: {errors}")


if __name__ == "__main__":
    main()
