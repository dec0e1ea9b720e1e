#!/usr/bin/env python3
"""Writes the fixtures of TorchCheckpointTests (Tests/TorchCheckpointFixtures/): small PyTorch
checkpoints in both of torch.save's serializations, hand-built ones (a big-endian legacy file, a
big-endian ZIP, a truncated storage) and hostile pickles, plus expected.json with what the
tests compare against.

Run by hand with a real PyTorch (not available in CI; the outputs are committed):

    /work/.venv-torch/bin/python tools/torch_checkpoint_fixtures.py

Nothing written here is ever loaded: the hostile files would run commands if unpickled (each
would create a marker file /tmp/rangeseg-pickle-marker-NAME, which the tests check is absent).
"""
import argparse
import io
import json
import os
import pickle
import struct
import subprocess
import zipfile
from collections import OrderedDict

import warnings

import numpy as np
import torch
import torch.optim.lr_scheduler as toptim

MARKER = "/tmp/rangeseg-pickle-marker-"
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


# MARK: - Tensors and what the tests expect of them


def describe(tensor):
    """A tensor as expected.json records it: dtype, shape, values in row-major order, location."""
    t = tensor.detach()
    if t.dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        values = t.double().reshape(-1).tolist()
    else:
        values = t.long().reshape(-1).tolist()
    dtype = str(t.dtype).replace("torch.", "")
    return {"dtype": dtype, "shape": list(t.shape), "values": values}


def describe_state_dict(state, location):
    return [dict(name=name, location=location, **describe(t)) for name, t in state.items()]


def mixed_state_dict():
    """Every dtype the reader converts, views with strides and offsets, shared storages, a 0-d
    tensor, a Parameter and a nested dict."""
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 4 - 1
    rows = torch.tensor([[1.5, -2.0, 3.25], [4.0, 5.5, -6.75]])
    wide = torch.arange(20, dtype=torch.float32).reshape(4, 5)
    sd = OrderedDict()
    sd["f32"] = torch.tensor([[0.1, -2.5, 3e-8], [1e30, -0.0, 7.0]], dtype=torch.float32)
    sd["f16"] = torch.tensor([1.0, -0.5, 65504.0, 6e-8, 0.1], dtype=torch.float16)
    sd["bf16"] = torch.tensor([1.0, -3.140625, 1e20, 0.00123], dtype=torch.bfloat16)
    sd["f64"] = torch.tensor([[0.1, 1e-300], [-1e300, 2.0]], dtype=torch.float64)
    sd["i64"] = torch.tensor([-(2 ** 40) - 1, 0, 2 ** 53 + 1, 7], dtype=torch.int64)
    sd["i32"] = torch.tensor([-70000, 70000], dtype=torch.int32)
    sd["i16"] = torch.tensor([-300, 300], dtype=torch.int16)
    sd["i8"] = torch.tensor([-128, 127], dtype=torch.int8)
    sd["u8"] = torch.tensor([0, 1, 200, 255, 17], dtype=torch.uint8)
    sd["flags"] = torch.tensor([True, False, True])
    sd["base"] = base
    sd["transposed"] = base.t()  # the same storage, strides (1, 4)
    sd["narrowed"] = wide[1:, 2:4]  # storage offset 7, strides (5, 1)
    sd["row0"] = rows[0]  # two tensors of one storage
    sd["row1"] = rows[1]  # storage offset 3
    sd["expanded"] = torch.tensor([2.0, -1.0]).expand(3, 2)  # stride 0
    sd["scalar"] = torch.tensor(42.5)
    sd["empty"] = torch.zeros(0, 3)
    sd["param"] = torch.nn.Parameter(torch.tensor([[0.25, -0.75]]))
    return sd


def mixed_checkpoint():
    sd = mixed_state_dict()
    nested = {"inner": OrderedDict(w=torch.tensor([9.0, 8.0]), steps=torch.tensor(5))}
    return {"model": sd, "nested": nested, "epoch": 3, "note": "fixture"}, sd, nested["inner"]


# MARK: - A SalsaNext-shaped training checkpoint


class WarmupLR(toptim._LRScheduler):
    """SalsaNext's schedule, written anew: the rising half of a CyclicLR for `warmup_steps`
    steps, then exponential decay by `decay` per step."""

    def __init__(self, optimizer, lr, warmup_steps, momentum, decay):
        self.optimizer = optimizer
        self.lr = lr
        self.warmup_steps = max(1, warmup_steps)
        self.momentum = momentum
        self.decay = decay
        self.initial_scheduler = toptim.CyclicLR(
            optimizer, base_lr=0, max_lr=lr, step_size_up=self.warmup_steps,
            step_size_down=self.warmup_steps, cycle_momentum=False,
            base_momentum=momentum, max_momentum=momentum)
        self.last_epoch = -1
        self.finished = False
        super().__init__(optimizer)

    def get_lr(self):
        return [self.lr * (self.decay ** self.last_epoch) for _ in self.base_lrs]

    def step(self, epoch=None):
        if self.finished or self.initial_scheduler.last_epoch >= self.warmup_steps:
            if not self.finished:
                self.base_lrs = [self.lr for _ in self.base_lrs]
                self.finished = True
            return super().step(epoch)
        return self.initial_scheduler.step(epoch)


class TinyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 3, 1)
        self.bn = torch.nn.BatchNorm2d(3)

    def forward(self, x):
        return self.bn(self.conv(x))


def salsanext_checkpoint():
    torch.manual_seed(7)
    model = torch.nn.DataParallel(TinyNet())  # names start with 'module.', as SalsaNext's do
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the order of the first steps, which does not matter here
        scheduler = WarmupLR(optimizer, lr=0.01, warmup_steps=2, momentum=0.9, decay=0.99)
    model(torch.randn(2, 2, 3, 3)).square().mean().backward()
    optimizer.step()
    scheduler.step()
    # torch 1.x kept CyclicLR's scale function as a bound method, which pickles as
    # getattr(<the CyclicLR being pickled>, name); torch 2.x keeps a static function, which
    # pickles as getattr(<the class CyclicLR>, name). The file holds both shapes.
    cyclic = scheduler.initial_scheduler
    vars(cyclic)["scale_fn"] = cyclic.get_lr
    info = {"train_update": np.int64(7), "train_loss": np.float64(0.5), "best_val_iou": np.float64(0.25),
            "valid_acc": 0.75}
    state = {"epoch": 3, "state_dict": model.state_dict(), "optimizer": optimizer.state_dict(), "info": info,
             "scheduler": scheduler.state_dict()}
    return state


# MARK: - Hand-built files


def pickle_bytes(obj, persistent=None, protocol=2):
    """`obj` pickled by Python's pickle with torch's persistent ids for `persistent` objects."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=protocol)
    if persistent is not None:
        pickler.persistent_id = persistent
    pickler.dump(obj)
    return buffer.getvalue()


class Reduce:
    """REDUCE of `function` with `args`: pickled as GLOBAL, the arguments and REDUCE, never called."""

    def __init__(self, function, *args):
        self.function, self.args = function, args


class Storage:
    """A persistent id, as torch's legacy writer records a storage."""

    def __init__(self, pid):
        self.pid = pid


class OpcodePickler(pickle.Pickler):
    """Writes Reduce objects as a call of their function and Storage objects as persistent
    ids, so that a file can be assembled from torch's names without torch.save."""

    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, Storage) else None

    def reducer_override(self, obj):
        if isinstance(obj, Reduce):
            return (obj.function, obj.args)
        return NotImplemented


def big_endian_legacy():
    """A legacy file as torch 1.1 wrote it on a big-endian machine: sys_info says
    little_endian False and each storage's element count is big-endian (torch wrote the count in
    the machine's order until 1.4 or so), while the elements are little-endian (torch converted
    them to little-endian on every machine). A view storage ((view_key, offset, size) in the
    persistent id) and an OrderedDict given as (key, value) pairs, as Python 2 pickled it."""
    floats = [1.5, -2.25, 3.0, 0.125, 100.0, -7.5]
    longs = [-(2 ** 33), 5, 123456789]
    halves = [0.5, -2.0]
    pid_f = ("storage", torch.FloatStorage, "1001", "cpu", len(floats), None)
    pid_view = ("storage", torch.FloatStorage, "1001", "cpu", len(floats), ("1001-view", 2, 3))
    pid_l = ("storage", torch.LongStorage, "2002", "cuda:1", len(longs), None)
    pid_h = ("storage", torch.HalfStorage, "3003", "cpu", len(halves), None)

    def tensor(pid, offset, size, stride):
        return Reduce(torch._utils._rebuild_tensor_v2, Storage(pid), offset, size, stride, False, OrderedDict())

    entries = [["matrix", tensor(pid_f, 0, (2, 3), (3, 1))],
               ["view", tensor(pid_view, 1, (2,), (1,))],
               ["longs", tensor(pid_l, 0, (3,), (1,))],
               ["halves", tensor(pid_h, 0, (2,), (1,))]]
    main = Reduce(OrderedDict, entries)
    buffer = io.BytesIO()
    buffer.write(pickle.dumps(LEGACY_MAGIC, protocol=2))
    buffer.write(pickle.dumps(1001, protocol=2))
    buffer.write(pickle.dumps({"protocol_version": 1001, "little_endian": False,
                               "type_sizes": {"short": 2, "int": 4, "long": 8}}, protocol=2))
    OpcodePickler(buffer, protocol=2).dump(main)
    buffer.write(pickle.dumps(["1001", "2002", "3003"], protocol=2))
    buffer.write(struct.pack(">q", len(floats)) + struct.pack(f"<{len(floats)}f", *floats))
    buffer.write(struct.pack(">q", len(longs)) + struct.pack(f"<{len(longs)}q", *longs))
    buffer.write(struct.pack(">q", len(halves)) + struct.pack(f"<{len(halves)}e", *halves))
    expected = [
        {"name": "matrix", "dtype": "float32", "shape": [2, 3], "values": floats, "location": "cpu"},
        {"name": "view", "dtype": "float32", "shape": [2], "values": floats[3:5], "location": "cpu"},
        {"name": "longs", "dtype": "int64", "shape": [3], "values": longs, "location": "cuda:1"},
        {"name": "halves", "dtype": "float16", "shape": [2], "values": halves, "location": "cpu"},
    ]
    return buffer.getvalue(), expected


def rewrite_zip(source, change):
    """The ZIP `source` with each member's bytes passed through change(name, bytes) (None drops
    the member), stored, under the same names."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info.filename, data)
    return out.getvalue()


def big_endian_zip(little):
    """A ZIP checkpoint as torch writes it on a big-endian machine: `byteorder` says big and
    every storage holds big-endian elements (the checkpoint's are all float32)."""

    def change(name, data):
        if name.endswith("/byteorder"):
            return b"big"
        if "/data/" in name and not name.endswith("serialization_id"):
            return b"".join(data[i:i + 4][::-1] for i in range(0, len(data), 4))
        return data

    return rewrite_zip(little, change)


def save(obj, legacy=False):
    buffer = io.BytesIO()
    torch.save(obj, buffer, _use_new_zipfile_serialization=not legacy)
    return buffer.getvalue()


# MARK: - Hostile pickles (written, never loaded)


class RunsOnLoad:
    """Unpickling this calls `function(*args)`."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return (self.function, self.args)


def hostile_files():
    touch = lambda name: f"touch {MARKER}{name}"  # noqa: E731
    files = {
        # The classic protocol-0 payload: GLOBAL 'os system'.
        "hostile-os-system.pkl": b"cos\nsystem\n(S'" + touch("os-system").encode() + b"'\ntR.",
        # Protocol 4 names it by STACK_GLOBAL 'posix' 'system'.
        "hostile-posix-system.pkl": pickle.dumps(RunsOnLoad(os.system, touch("posix-system")), protocol=4),
        "hostile-eval.pkl": pickle.dumps(RunsOnLoad(eval, f"__import__('os').system('{touch('eval')}')"), protocol=2),
        "hostile-exec.pkl": pickle.dumps(RunsOnLoad(exec, f"import os; os.system('{touch('exec')}')"), protocol=4),
        "hostile-popen.pkl": pickle.dumps(RunsOnLoad(subprocess.Popen, ["touch", MARKER + "popen"]), protocol=2),
        # getattr(os.path, 'isfile')('/x1'): refused at the global 'os.path' getattr is given.
        "hostile-getattr-os.pkl": (b"\x80\x02c__builtin__\ngetattr\ncos\npath\nX\x06\x00\x00\x00isfileq\x00\x86R"
                                     b"X\x03\x00\x00\x00/x1\x85R."),
        # The result of an allowed getattr called: refused as a call of a non-global.
        "hostile-call-getattr-result.pkl": (b"\x80\x02c__builtin__\ngetattr\nccollections\nOrderedDict\n"
                                            b"X\x08\x00\x00\x00fromkeys\x86R]K\x01a\x85R."),
    }
    tensors = {"weight": torch.tensor([1.0, 2.0]), "bias": torch.tensor([0.5])}
    files["hostile-zip.pt"] = save({**tensors, "payload": RunsOnLoad(os.system, touch("zip"))})
    files["hostile-legacy.pt"] = save({**tensors, "payload": RunsOnLoad(os.system, touch("legacy"))}, legacy=True)
    return files


# MARK: - Writing


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                      "../Tests/TorchCheckpointFixtures"))
    out = os.path.normpath(parser.parse_args().out)
    os.makedirs(out, exist_ok=True)
    files, expected = {}, {}

    checkpoint, sd, inner = mixed_checkpoint()
    files["mixed-zip.pt"] = save(checkpoint)
    expected["mixed-zip.pt"] = {"format": "zip", "states": {
        "model": describe_state_dict(sd, "cpu"), "nested.inner": describe_state_dict(inner, "cpu")}}

    # The legacy file's storages are tagged 'cuda:0' by a tagger ahead of torch's own.
    tag_cuda = {"on": False}
    torch.serialization.register_package(0, lambda storage: "cuda:0" if tag_cuda["on"] else None, lambda s, loc: None)
    tag_cuda["on"] = True
    files["mixed-legacy.pt"] = save(checkpoint, legacy=True)
    tag_cuda["on"] = False
    expected["mixed-legacy.pt"] = {"format": "legacy", "states": {
        "model": describe_state_dict(sd, "cuda:0"), "nested.inner": describe_state_dict(inner, "cuda:0")}}

    floats_only = OrderedDict((k, v) for k, v in sd.items() if v.dtype == torch.float32)
    files["big-endian-zip.pt"] = big_endian_zip(save(floats_only))
    expected["big-endian-zip.pt"] = {"format": "zip", "states": {"": describe_state_dict(floats_only, "cpu")}}

    legacy_be, legacy_be_expected = big_endian_legacy()
    files["big-endian-legacy.pt"] = legacy_be
    expected["big-endian-legacy.pt"] = {"format": "legacy", "states": {"": legacy_be_expected}}

    salsa = salsanext_checkpoint()
    for name, legacy in [("salsanext-zip.pt", False), ("salsanext-legacy.pt", True)]:
        files[name] = save(salsa, legacy=legacy)
        expected[name] = {"format": "legacy" if legacy else "zip", "epoch": salsa["epoch"],
                          "states": {"state_dict": describe_state_dict(salsa["state_dict"], "cpu")}}

    # A list at the top level, a ZIP without data.pkl, a storage shorter than its tensor.
    files["list-zip.pt"] = save([torch.tensor([1.0]), torch.tensor([2.0])])
    small = save(OrderedDict(w=torch.arange(6, dtype=torch.float32)))
    files["no-data-pkl.zip"] = rewrite_zip(small, lambda name, data: None if name.endswith("data.pkl") else data)
    files["short-storage-zip.pt"] = rewrite_zip(small, lambda name, data: data[:16] if name.endswith("/data/0") else data)
    files["plain-list.pkl"] = pickle.dumps([1, 2, 3], protocol=2)
    files.update(hostile_files())

    for name, data in sorted(files.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    total = sum(len(d) for d in files.values())
    print(f"wrote {len(files)} fixtures ({total} bytes) and expected.json into {out}")


if __name__ == "__main__":
    main()
