#!/usr/bin/env python3
"""PyTorch's side of the pretrained-model checks (issue 23). Needs PyTorch and PyYAML, which are
not project dependencies:
    python3 -m venv ../.venv-torch && ../.venv-torch/bin/pip install torch numpy pyyaml

    pretrained_reference.py manifest
        Tests/PretrainedFixtures/NETWORK.json: the official files' state-dict names and shapes,
        from the PyTorch definitions in tools/reference_networks.py (tools/official_folder.py
        reads them).
    pretrained_reference.py labels FOLDER SCAN.bin... --out EXPECTED.npz
        The labels the official infer.py pipeline gives: the folder's files read with the real
        torch.load, its arch_cfg.yaml's projection, normalisation, input channels and k-NN, the
        network in evaluation mode, learning_map_inv of data_cfg.yaml; one uint16 array of raw
        ids per scan (named by the scan's file name without extension).
    pretrained_reference.py folder NETWORK OUT [--format legacy|zip] [--width W] [--knn] [--cuda]
        An official-layout folder written by the real torch.save from the PyTorch definitions
        with the weights of tools/hashfill.py; SalsaNext's file also holds an
        SGD optimizer's state after one step, a warm-up scheduler's state_dict() with its
        CyclicLR inside, and NumPy scalars in `info`, as the official trainer saves. --cuda
        tags every storage `cuda:0`, as files saved from a GPU are.
    pretrained_reference.py compare EXPECTED.npz PREDICTIONS
        Per scan, the share of points whose label in PREDICTIONS/NAME.label (rangeseg infer's
        output for scan files) is PyTorch's.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_networks import DarkNet, SalsaNext  # noqa: E402
from reference_projection import project, load  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "PretrainedFixtures")


def official_files(model, network):
    """{file: state_dict} as the official code saves them."""
    if network == "salsanext":
        return {"SalsaNext": {"module." + k: v for k, v in model.state_dict().items()}}
    return {"backbone": model.backbone.state_dict(), "segmentation_decoder": model.decoder.state_dict(),
            "segmentation_head": model.head.state_dict()}


def make(network):
    return SalsaNext() if network == "salsanext" else DarkNet(int(network[len("darknet"):]))


def manifest(_):
    os.makedirs(FIXTURES, exist_ok=True)
    for network in ["darknet21", "darknet53", "salsanext"]:
        files = official_files(make(network), network)
        out = {f: [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in sd.items()] for f, sd in files.items()}
        with open(os.path.join(FIXTURES, f"{network}.json"), "w") as f:  # one entry per line
            f.write("{\n" + ",\n".join(json.dumps(name) + ": [\n" + ",\n".join(json.dumps(e) for e in entries) + "\n]"
                                        for name, entries in out.items()) + "\n}\n")
        print(f"{network}: {sum(len(v) for v in out.values())} entries")


def read_folder(folder):
    """The network in evaluation mode, the arch and data configs, as the official user.py loads them."""
    with open(os.path.join(folder, "arch_cfg.yaml")) as f:
        arch = yaml.safe_load(f)
    with open(os.path.join(folder, "data_cfg.yaml")) as f:
        data = yaml.safe_load(f)
    classes = len(data["learning_map_inv"])
    if os.path.exists(os.path.join(folder, "SalsaNext")):
        model = SalsaNext(classes)
        w = torch.load(os.path.join(folder, "SalsaNext"), map_location="cpu", weights_only=False)
        model.load_state_dict({k[len("module."):]: v for k, v in w["state_dict"].items()}, strict=True)
        channels = [0, 1, 2, 3, 4]
    else:
        backbone = arch["backbone"]
        model = DarkNet(backbone["extra"]["layers"], classes)
        for file, part in [("backbone", model.backbone), ("segmentation_decoder", model.decoder), ("segmentation_head", model.head)]:
            part.load_state_dict(torch.load(os.path.join(folder, file), map_location="cpu", weights_only=False), strict=True)
        depth = backbone["input_depth"]
        channels = ([0] if depth["range"] else []) + ([1, 2, 3] if depth["xyz"] else []) + ([4] if depth["remission"] else [])
        if channels != [0, 1, 2, 3, 4]:
            raise SystemExit("the reference DarkNet reads all five channels")
    return model.eval(), arch, data, channels


def knn_vote(proj_range, unproj_range, proj_argmax, px, py, params, classes):
    """RangeNet++'s k-NN clean-up (postproc/KNN.py), from its description."""
    k, search, sigma, cutoff = params["knn"], params["search"], params["sigma"], params["cutoff"]
    H, W = proj_range.shape
    pad = (search - 1) // 2
    idx = py * W + px
    near = F.unfold(proj_range[None, None], (search, search), padding=(pad, pad))[0][:, idx].clone()
    near[near < 0] = float("inf")
    near[(search * search - 1) // 2] = unproj_range
    distance = (near - unproj_range).abs()
    grid = torch.arange(search, dtype=torch.float32)
    mean = (search - 1) / 2.0
    g = torch.exp(-((grid[:, None] - mean) ** 2 + (grid[None, :] - mean) ** 2) / (2 * sigma ** 2)) / (2 * np.pi * sigma ** 2)
    g = g / g.sum()
    distance = distance * (1 - g.reshape(-1, 1))
    _, nearest = distance.topk(k, dim=0, largest=False, sorted=False)
    votes_of = F.unfold(proj_argmax[None, None].float(), (search, search), padding=(pad, pad))[0][:, idx].long()
    chosen = votes_of.gather(0, nearest)
    if cutoff > 0:
        chosen[distance.gather(0, nearest) > cutoff] = classes
    votes = torch.zeros(classes + 1, idx.shape[0]).scatter_add_(0, chosen, torch.ones_like(chosen, dtype=torch.float32))
    return votes[1:-1].argmax(0) + 1


def labels(args):
    model, arch, data, channels = read_folder(args.folder)
    sensor = arch["dataset"]["sensor"]
    H, W = sensor["img_prop"]["height"], sensor["img_prop"]["width"]
    means = np.array(sensor["img_means"], dtype=np.float32)[:, None, None]
    stds = np.array(sensor["img_stds"], dtype=np.float32)[:, None, None]
    inverse = np.zeros(len(data["learning_map_inv"]), dtype=np.uint16)
    for learning, raw in data["learning_map_inv"].items():
        inverse[learning] = raw
    out = {}
    for scan in args.scans:
        p = project(load(scan), H, W, sensor["fov_up"], sensor["fov_down"])
        image = np.concatenate([p["proj_range"][None], p["proj_xyz"].transpose(2, 0, 1), p["proj_remission"][None]])
        image = (image - means) / stds * p["proj_mask"][None]
        with torch.no_grad():
            logits = model(torch.from_numpy(image[channels][None].astype(np.float32)))[0]
        argmax = logits.argmax(0)
        px, py = torch.from_numpy(p["proj_x"]).long(), torch.from_numpy(p["proj_y"]).long()
        if arch["post"]["KNN"]["use"]:
            points = knn_vote(torch.from_numpy(p["proj_range"]), torch.from_numpy(p["unproj_range"]), argmax, px, py,
                              arch["post"]["KNN"]["params"], logits.shape[0])
        else:
            points = argmax[py, px]
        out[os.path.splitext(os.path.basename(scan))[0]] = inverse[points.numpy()]
    np.savez_compressed(args.out, **out)
    print(f"{args.out}: {', '.join(f'{k} ({v.size} points)' for k, v in out.items())}")


class WarmupLR(torch.optim.lr_scheduler.LRScheduler):
    """A warm-up scheduler of the official SalsaNext trainer's kind: a CyclicLR from 0 to lr for
    the warm-up steps, then exponential decay. Its state_dict() holds the CyclicLR object."""

    def __init__(self, optimizer, lr, warmup_steps, momentum, decay):
        self.lr, self.warmup_steps, self.momentum, self.decay = lr, max(1, warmup_steps), momentum, decay
        self.initial_scheduler = torch.optim.lr_scheduler.CyclicLR(
            optimizer, base_lr=0, max_lr=lr, step_size_up=self.warmup_steps, step_size_down=self.warmup_steps,
            cycle_momentum=False, base_momentum=momentum, max_momentum=momentum)
        self.finished = False
        super().__init__(optimizer)

    def get_lr(self):
        return [self.lr * (self.decay ** self.last_epoch) for _ in self.base_lrs]


def fill(model):
    """The deterministic weights of tools/hashfill.py (PyTorch's own initialisation makes
    SalsaNext label every point alike, which would make a weak comparison)."""
    import hashfill
    state = model.state_dict()
    values = hashfill.fill([(k, list(v.shape)) for k, v in state.items()])
    with torch.no_grad():
        for name, tensor in state.items():
            tensor.copy_(torch.from_numpy(values[name]).reshape(tensor.shape))
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.num_batches_tracked.fill_(1234)


def folder(args):
    import shutil
    import importlib.util
    spec = importlib.util.spec_from_file_location("official_folder", os.path.join(os.path.dirname(os.path.abspath(__file__)), "official_folder.py"))
    writer = importlib.util.module_from_spec(spec)
    # official_folder.py registers a stand-in `torch` only when none is imported: here the real one is.
    spec.loader.exec_module(writer)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "arch_cfg.yaml"), "w") as f:
        f.write(writer.arch_cfg(args.network, args.width, "True" if args.knn else "False"))
    shutil.copy(os.path.join(writer.ROOT, "data", "semantic-kitti.yaml"), os.path.join(args.out, "data_cfg.yaml"))
    model = make(args.network)
    zip_format = (args.format or ("zip" if args.network == "salsanext" else "legacy")) == "zip"
    if args.cuda:
        torch.serialization.register_package(5, lambda storage: "cuda:0", lambda storage, location: None)
    if args.network == "salsanext":
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
        scheduler = WarmupLR(optimizer, 0.01, 10, 0.9, 0.99)
        model.train()
        model(torch.randn(1, 5, 64, 64)).sum().backward()
        optimizer.step()
        scheduler.step()
    fill(model)
    files = official_files(model, args.network)
    if args.network == "salsanext":
        files = {"SalsaNext": {"epoch": 3, "state_dict": files["SalsaNext"], "optimizer": optimizer.state_dict(),
                               "info": {"train_loss": np.float64(0.51), "best_val_iou": np.float64(0.42), "steps": np.int64(7)},
                               "scheduler": scheduler.state_dict()}}
    for file, obj in files.items():
        torch.save(obj, os.path.join(args.out, file), _use_new_zipfile_serialization=zip_format)
    print(f"{args.out}: {args.network}, {'zip' if zip_format else 'legacy'}, width {args.width}, knn {args.knn}, cuda tag {args.cuda}")


def compare(args):
    """Per scan of EXPECTED.npz: the share of points of PREDICTIONS/NAME.label with its label."""
    expected = np.load(args.expected)
    for name in expected:
        ours = np.fromfile(os.path.join(args.predictions, name + ".label"), dtype=np.uint32) & 0xFFFF
        theirs = expected[name]
        if ours.shape != theirs.shape:
            raise SystemExit(f"{name}: {ours.size} against {theirs.size} points")
        print(f"{name}: {(ours == theirs).mean() * 100:.4f}% of {ours.size} points agree ({int((ours != theirs).sum())} differ)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("manifest").set_defaults(run=manifest)
    p = sub.add_parser("labels")
    p.add_argument("folder")
    p.add_argument("scans", nargs="+")
    p.add_argument("--out", required=True)
    p.set_defaults(run=labels)
    p = sub.add_parser("folder")
    p.add_argument("network", choices=["darknet21", "darknet53", "salsanext"])
    p.add_argument("out")
    p.add_argument("--format", choices=["legacy", "zip"])
    p.add_argument("--width", type=int, default=2048)
    p.add_argument("--knn", action="store_true")
    p.add_argument("--cuda", action="store_true")
    p.set_defaults(run=folder)
    p = sub.add_parser("compare")
    p.add_argument("expected")
    p.add_argument("predictions")
    p.set_defaults(run=compare)
    args = parser.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    args.run(args)


if __name__ == "__main__":
    main()
