#!/usr/bin/env python3
"""NumPy implementation of the spherical projection formulas, RangeNet++ convention.

The same arithmetic as semantic-kitti-api's LaserScan.do_range_projection (float32, argsort
by descending range so the nearest point is written last), written for RangeSeg's tests and
benchmark. Usage:

    reference_projection.py project SCAN.bin OUT.npz [H W FOV_UP FOV_DOWN]
    reference_projection.py bench SCAN.bin [SCAN.bin ...] --repeat N   (prints ms per scan)
"""
import sys
import time

import numpy as np


def project(points, H=64, W=2048, fov_up_deg=3.0, fov_down_deg=-25.0):
    fov_up = fov_up_deg / 180.0 * np.pi
    fov_down = fov_down_deg / 180.0 * np.pi
    fov = abs(fov_down) + abs(fov_up)
    xyz = points[:, :3]
    remission = points[:, 3]
    depth = np.linalg.norm(xyz, 2, axis=1)
    yaw = -np.arctan2(xyz[:, 1], xyz[:, 0])
    pitch = np.arcsin(xyz[:, 2] / depth)
    proj_x = 0.5 * (yaw / np.pi + 1.0) * W
    proj_y = (1.0 - (pitch + abs(fov_down)) / fov) * H
    proj_x = np.maximum(0, np.minimum(W - 1, np.floor(proj_x))).astype(np.int32)
    proj_y = np.maximum(0, np.minimum(H - 1, np.floor(proj_y))).astype(np.int32)
    unproj_range = depth.copy()
    order = np.argsort(depth)[::-1]
    indices = np.arange(depth.shape[0])[order]
    proj_range = np.full((H, W), -1, dtype=np.float32)
    proj_xyz = np.full((H, W, 3), -1, dtype=np.float32)
    proj_remission = np.full((H, W), -1, dtype=np.float32)
    proj_idx = np.full((H, W), -1, dtype=np.int32)
    py, px = proj_y[order], proj_x[order]
    proj_range[py, px] = depth[order]
    proj_xyz[py, px] = xyz[order]
    proj_remission[py, px] = remission[order]
    proj_idx[py, px] = indices
    return dict(proj_range=proj_range, proj_xyz=proj_xyz, proj_remission=proj_remission,
                proj_idx=proj_idx, proj_mask=proj_idx >= 0, proj_x=proj_x, proj_y=proj_y,
                unproj_range=unproj_range)


def load(path):
    return np.fromfile(path, dtype=np.float32).reshape(-1, 4)


def main(argv):
    if len(argv) >= 3 and argv[0] == "project":
        extra = [float(a) for a in argv[3:7]]
        H, W = (int(extra[0]), int(extra[1])) if extra else (64, 2048)
        fu, fd = (extra[2], extra[3]) if len(extra) == 4 else (3.0, -25.0)
        np.savez(argv[2], **project(load(argv[1]), H, W, fu, fd))
    elif len(argv) >= 2 and argv[0] == "bench":
        repeat = 10
        paths = [a for a in argv[1:] if not a.startswith("--")]
        if "--repeat" in argv:
            repeat = int(argv[argv.index("--repeat") + 1])
            paths = [p for p in paths if p != str(repeat)]
        scans = [load(p) for p in paths]
        for s in scans:
            project(s)  # warm-up
        times = []
        for _ in range(repeat):
            for s in scans:
                t0 = time.perf_counter()
                project(s)
                times.append(time.perf_counter() - t0)
        print(f"numpy {np.__version__}: median {np.median(times) * 1e3:.2f} ms per scan over {len(times)} projections")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
