#!/usr/bin/env python3
"""Cross-checks RangeSeg's network and checkpoints against the PyTorch reference.

Needs PyTorch and safetensors (not project dependencies: `python3 -m venv v && v/bin/pip
install torch safetensors numpy`). Given a checkpoint written by `rangeseg train`, a range image
written by `rangeseg project` and the logits `rangeseg infer --arrays` wrote for the same scan:

1. loads the checkpoint into shared/reference/rangenet_lite.py with strict=True and compares
   the reference's logits with RangeSeg's;
2. with --write-torch-checkpoint FILE, saves a PyTorch state_dict (the checkpoint's weights
   plus noise) for `rangeseg infer --checkpoint FILE --arrays`; run again with --logits set to
   those logits and --checkpoint FILE to compare the other way round.

    pytorch_crosscheck.py --checkpoint run/best.safetensors --range range/08/000000.npz \
        --logits pred/sequences/08/predictions/000000.logits.npy [--write-torch-checkpoint t.safetensors]
"""
import argparse
import os
import sys

import numpy as np
import torch
from safetensors.torch import load_file, save_file

MEANS = np.array([12.12, 10.88, 0.23, -1.04, 0.21], np.float32)[:, None, None]
STDS = np.array([12.32, 11.47, 6.91, 0.86, 0.16], np.float32)[:, None, None]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--range", required=True, help=".npz written by rangeseg project")
    parser.add_argument("--logits", required=True, help=".logits.npy written by rangeseg infer --arrays")
    parser.add_argument("--reference", default=os.path.join(os.path.dirname(__file__), "../../shared/reference"))
    parser.add_argument("--write-torch-checkpoint")
    args = parser.parse_args()

    sys.path.insert(0, args.reference)
    from rangenet_lite import RangeNetLite

    model = RangeNetLite()
    print("load_state_dict(strict=True):", model.load_state_dict(load_file(args.checkpoint), strict=True))
    model.eval()
    d = np.load(args.range)
    x = np.concatenate([d["proj_range"][None], d["proj_xyz"].transpose(2, 0, 1), d["proj_remission"][None]])
    x = ((x - MEANS) / STDS * d["proj_mask"][None]).astype(np.float32)
    with torch.no_grad():
        reference = model(torch.from_numpy(x[None])).numpy()
    ours = np.load(args.logits)
    diff = np.abs(reference - ours).max()
    print(f"max |PyTorch - RangeSeg| = {diff:.3g} (largest logit {np.abs(reference).max():.3g}); "
          f"argmax agreement {(reference.argmax(1) == ours.argmax(1)).mean():.5f}")
    if args.write_torch_checkpoint:
        torch.manual_seed(0)
        state = {k: (v + 0.01 * torch.randn_like(v) if v.dtype == torch.float32 else v).contiguous()
                 for k, v in model.state_dict().items()}
        save_file(state, args.write_torch_checkpoint)
        print(f"wrote {args.write_torch_checkpoint} ({len(state)} tensors)")
    return 0 if diff < 1e-3 else 1


if __name__ == "__main__":
    sys.exit(main())
