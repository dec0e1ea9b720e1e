#!/usr/bin/env python3
"""Writes a model folder in the layout of the official RangeNet++ or SalsaNext downloads, with
the deterministic weights of tools/hashfill.py, using only Python's pickle and NumPy: what the
test suite reads when PyTorch is not installed.

    official_folder.py darknet21 OUT [--format legacy|zip] [--width 512] [--knn] [--location cuda:0]
    official_folder.py salsanext OUT [--format zip|legacy] [--width 512] [--knn]

The files are the ones `torch.save` writes, byte for byte in structure (checked by
tools/pretrained_reference.py, which reads them with the real `torch.load`):
- legacy (torch < 1.6): five pickles in one file (magic number, protocol 1001, system info, the
  object, the sorted storage keys), then each storage as an 8-byte element count and its bytes;
- zip (torch >= 1.6): `<name>/data.pkl`, `<name>/data/<key>`, `<name>/version`,
  `<name>/byteorder`, stored uncompressed.
Tensors are `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`
with persistent storage ids, state dicts are `collections.OrderedDict`s with a `_metadata`
attribute, as PyTorch writes them. A stand-in `torch` module (never PyTorch itself) gives pickle
the global names.

RangeNet++: arch_cfg.yaml, data_cfg.yaml and `backbone`, `segmentation_decoder`,
`segmentation_head` (each a state dict). SalsaNext: arch_cfg.yaml, data_cfg.yaml and `SalsaNext`,
a dict with epoch, state_dict (keys `module.`...), optimizer, info (NumPy scalars) and scheduler.
The state dicts' names and shapes come from Tests/PretrainedFixtures/NETWORK.json, which
tools/pretrained_reference.py writes from the PyTorch definitions.
"""
import argparse
import collections
import io
import json
import os
import pickle
import shutil
import struct
import sys
import types
import zipfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hashfill  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIXTURES = os.path.join(ROOT, "Tests", "PretrainedFixtures")


# ---------------------------------------------------------------------------------------------
# Stand-ins that give pickle PyTorch's global names. Nothing here is PyTorch.

def _stand_in_torch():
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):  # never called: only its name is written
        raise RuntimeError("stand-in")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    torch._utils = utils
    storages = {}
    for name in ["FloatStorage", "LongStorage"]:
        cls = type(name, (), {"__module__": "torch", "__qualname__": name})
        setattr(torch, name, cls)
        storages[name] = cls
    sys.modules.setdefault("torch", torch)
    sys.modules.setdefault("torch._utils", utils)
    return _rebuild_tensor_v2, storages


REBUILD, STORAGE_TYPES = _stand_in_torch()


class Storage:
    """One storage: its bytes (little-endian) and element type."""

    def __init__(self, array):
        self.array = np.ascontiguousarray(array).reshape(-1)
        self.type = STORAGE_TYPES["LongStorage" if self.array.dtype == np.int64 else "FloatStorage"]
        self.key = None


class Tensor:
    """A contiguous tensor over its own storage, pickled as PyTorch pickles tensors."""

    def __init__(self, array):
        self.shape = tuple(int(s) for s in np.shape(array))
        self.storage = Storage(array)

    def __reduce_ex__(self, protocol):
        strides, step = [], 1
        for size in reversed(self.shape):
            strides.insert(0, step)
            step *= size
        return REBUILD, (self.storage, 0, self.shape, tuple(strides), False, collections.OrderedDict())


def state_dict(arrays, prefix=""):
    """An OrderedDict of tensors with PyTorch's `_metadata` attribute."""
    out = collections.OrderedDict((prefix + k, Tensor(v)) for k, v in arrays.items())
    modules = sorted({k.rsplit(".", 1)[0] for k in arrays} | {""})
    out._metadata = collections.OrderedDict((m, {"version": 1}) for m in modules)
    return out


# ---------------------------------------------------------------------------------------------
# The two serializations.

class _Pickler(pickle.Pickler):
    def __init__(self, file, location, legacy):
        super().__init__(file, protocol=2)
        self.location, self.legacy, self.storages = location, legacy, []

    def persistent_id(self, obj):
        if not isinstance(obj, Storage):
            return None
        if obj.key is None:
            # Legacy keys are id() numbers as text; zip keys count from 0.
            obj.key = str(140000000000000 + 64 * len(self.storages)) if self.legacy else str(len(self.storages))
            self.storages.append(obj)
        if self.legacy:
            return ("storage", obj.type, obj.key, self.location, obj.array.size, None)
        return ("storage", obj.type, obj.key, self.location, obj.array.size)


def save_legacy(obj, path, location="cpu"):
    buffer = io.BytesIO()
    for header in [0x1950A86A20F9469CFC6C, 1001,
                   {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}]:
        pickle.dump(header, buffer, protocol=2)
    pickler = _Pickler(buffer, location, legacy=True)
    pickler.dump(obj)
    storages = sorted(pickler.storages, key=lambda s: s.key)
    pickle.dump([s.key for s in storages], buffer, protocol=2)
    for s in storages:
        buffer.write(struct.pack("<q", s.array.size))
        buffer.write(s.array.astype(s.array.dtype.newbyteorder("<")).tobytes())
    with open(path, "wb") as f:
        f.write(buffer.getvalue())


def save_zip(obj, path, location="cpu"):
    buffer = io.BytesIO()
    pickler = _Pickler(buffer, location, legacy=False)
    pickler.dump(obj)
    name = os.path.basename(path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(f"{name}/data.pkl", buffer.getvalue())
        z.writestr(f"{name}/byteorder", "little")
        for s in pickler.storages:
            z.writestr(f"{name}/data/{s.key}", s.array.astype(s.array.dtype.newbyteorder("<")).tobytes())
        z.writestr(f"{name}/version", "3\n")


# ---------------------------------------------------------------------------------------------
# The folders.

def arch_cfg(network, width, knn):
    sensor = f"""dataset:
  labels: "kitti"
  scans: "kitti"
  max_points: 150000
  sensor:
    name: "HDL64"
    type: "spherical"
    fov_up: 3
    fov_down: -25
    img_prop:
      width: {width}
      height: 64
    img_means: [12.12, 10.88, 0.23, -1.04, 0.21]
    img_stds: [12.32, 11.47, 6.91, 0.86, 0.16]
"""
    post = f"""post:
  CRF:
    use: False
    train: True
    params: False
  KNN:
    use: {knn}
    params:
      knn: 5
      search: 5
      sigma: 1.0
      cutoff: 1.0
"""
    train = """train:
  loss: "xentropy"
  max_epochs: 150
  lr: 0.01
  wup_epochs: 1
  momentum: 0.9
  lr_decay: 0.99
  w_decay: 0.0001
  batch_size: 2
  report_batch: 1
  report_epoch: 1
  epsilon_w: 0.001
  save_summary: False
  save_scans: True
  show_scans: False
  workers: 4
"""
    if network == "salsanext":
        return train + "\n" + post + "\n" + sensor
    layers = network[len("darknet"):]
    return train + f"""
backbone:
  name: "darknet"
  input_depth:
    range: True
    xyz: True
    remission: True
  dropout: 0.01
  bn_d: 0.01
  OS: 32
  train: True
  extra:
    layers: {layers}

decoder:
  name: "darknet"
  dropout: 0.01
  bn_d: 0.01
  train: True
  extra: False

head:
  name: "segmentation"
  train: True
  dropout: 0.01

""" + post + "\n" + sensor


def write(network, out, fmt, width, knn, location):
    with open(os.path.join(FIXTURES, f"{network}.json")) as f:
        manifest = json.load(f)  # {file: [[name, shape, dtype], ...]}
    os.makedirs(out, exist_ok=True)
    save = save_legacy if fmt == "legacy" else save_zip
    with open(os.path.join(out, "arch_cfg.yaml"), "w") as f:
        f.write(arch_cfg(network, width, "True" if knn else "False"))
    shutil.copy(os.path.join(ROOT, "data", "semantic-kitti.yaml"), os.path.join(out, "data_cfg.yaml"))
    for file, entries in manifest.items():
        names = [(name, shape) for name, shape, _ in entries]
        # The hash seeds are the names within the whole network (RangeNet++: backbone.conv1...;
        # SalsaNext: without the DataParallel prefix `module.`).
        if network == "salsanext":
            values = hashfill.fill([(n[len("module."):], s) for n, s in names])
            sd = state_dict(values, prefix="module.")
            sd._metadata = collections.OrderedDict((("module." + k) if k else k, v) for k, v in sd._metadata.items())
            optimizer = {"state": {}, "param_groups": [{"lr": 0.01, "momentum": 0.9, "dampening": 0, "weight_decay": 0.0001,
                                                         "nesterov": False, "params": list(range(len(names)))}]}
            info = {"train_loss": np.float64(0.5), "train_acc": np.float64(0.9), "best_val_iou": np.float64(0.42),
                    "epochs_seen": np.int64(7)}
            scheduler = {"lr": 0.01, "warmup_steps": 100, "momentum": 0.9, "decay": 0.99, "last_epoch": 700,
                         "finished": True, "base_lrs": [0.01]}
            obj = {"epoch": 7, "state_dict": sd, "optimizer": optimizer, "info": info, "scheduler": scheduler}
        else:
            prefix = {"backbone": "backbone.", "segmentation_decoder": "decoder.", "segmentation_head": "head."}[file]
            values = hashfill.fill([(prefix + n, s) for n, s in names])
            obj = state_dict({n[len(prefix):]: v for n, v in values.items()})
        save(obj, os.path.join(out, file), location)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("network", choices=["darknet21", "darknet53", "salsanext"])
    parser.add_argument("out")
    parser.add_argument("--format", choices=["legacy", "zip"])
    parser.add_argument("--width", type=int, default=2048)
    parser.add_argument("--knn", action="store_true", help="post.KNN.use: True")
    parser.add_argument("--location", default="cpu", help="the storages' device tag, e.g. cuda:0")
    args = parser.parse_args()
    fmt = args.format or ("zip" if args.network == "salsanext" else "legacy")
    write(args.network, args.out, fmt, args.width, args.knn, args.location)


if __name__ == "__main__":
    main()
