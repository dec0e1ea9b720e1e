"""The deterministic weights of RangeSeg's cross-checks, in NumPy only.

Every value comes from a counter-based hash of its state_dict name, which the Swift tests
compute bit for bit the same (Tests/EngineTests/NetworkParityTests.swift): no weights need to be
committed, only what PyTorch computed from them.
"""
import numpy as np

MASK = (1 << 64) - 1


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for byte in text.encode():
        h = ((h ^ byte) * 0x100000001B3) & MASK
    return h


def uniform(name, count):
    """count values in [-1, 1): splitmix64(fnv1a64(name) + i), top 24 bits."""
    z = (np.uint64(fnv1a64(name)) + np.arange(count, dtype=np.uint64)) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(40)).astype(np.float64) * 2.0 ** -23 - 1).astype(np.float32)


def fill(names_and_shapes, seed_name=lambda name: name):
    """The state of a network from its state_dict names and shapes, as float32 arrays: conv
    weights u*sqrt(3/fan_in), biases 0.1u, batch norm weight 1+0.2u, bias 0.1u, running mean
    0.2u, running var 1+0.5u; num_batches_tracked 0 (int64). `seed_name` maps a name to the one
    hashed (e.g. without a file's prefix)."""
    names = [n for n, _ in names_and_shapes]
    norms = {n[: -len(".running_mean")] for n in names if n.endswith(".running_mean")}
    state = {}
    for name, shape in names_and_shapes:
        if name.endswith("num_batches_tracked"):
            state[name] = np.zeros(shape, dtype=np.int64)
            continue
        count = int(np.prod(shape)) if shape else 1
        u = uniform(seed_name(name), count).reshape(shape)
        prefix, leaf = name.rsplit(".", 1)
        if prefix in norms:
            value = {"weight": 1 + 0.2 * u, "bias": 0.1 * u, "running_mean": 0.2 * u, "running_var": 1 + 0.5 * u}[leaf]
        elif len(shape) == 4:
            value = u * (3.0 / (shape[1] * shape[2] * shape[3])) ** 0.5
        else:
            value = 0.1 * u
        state[name] = np.asarray(value, dtype=np.float32)
    return state
