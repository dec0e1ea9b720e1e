#!/usr/bin/env python3
"""Times the range k-NN clean-up kernel (Sources/CKernels/range_knn.c) on a real scan.

Compiles the kernels with clang -O2 (what a release build of CKernels uses), projects the
scan with tools/reference_projection.py, draws random pixel classes (or takes a network's:
--classes, the .logits.npy that `rangeseg infer --arrays` writes for the scan, or an [H, W]
class image), and runs RangeNet++'s setting (k 5, a 5 x 5 window, sigma 1, cutoff 1) several
times through ctypes:

    python3 tools/knn_bench.py [SCAN.bin] [--repeat 10] [--classes 000000.logits.npy]

Random classes are the kernel's worst case: no window is of one class, so every point is searched.

Prints the fastest, median and slowest run in milliseconds. NumPy and clang are needed.
"""
import argparse
import ctypes
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from reference_projection import load, project  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scan", nargs="?", default=os.path.join(HERE, "../../shared/data/semantickitti/sequences/00/velodyne/000000.bin"))
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--classes", help="logits [1, C, H, W] or classes [H, W] (.npy) of the scan's pixels")
    args = parser.parse_args()
    kernels = os.path.join(HERE, "../Sources/CKernels")
    sources = sorted(os.path.join(kernels, f) for f in os.listdir(kernels) if f.endswith(".c"))  # the kernel and its dispatch
    library = os.path.join(tempfile.mkdtemp(), "range_knn.so")
    subprocess.run(["clang", "-O2", "-shared", "-fPIC", "-I", os.path.join(kernels, "include"), *sources, "-o", library], check=True)
    kernel = ctypes.CDLL(library).rs_range_knn
    kernel.argtypes = [ctypes.c_void_p] * 2 + [ctypes.c_int32] * 2 + [ctypes.c_void_p] * 3 + [
        ctypes.c_int64, ctypes.c_int32, ctypes.c_int32, ctypes.c_void_p, ctypes.c_float, ctypes.c_int32, ctypes.c_int32, ctypes.c_void_p]
    p = project(load(args.scan))
    height, width = p["proj_range"].shape
    if args.classes:
        loaded = np.load(args.classes)
        classes = (loaded[0].argmax(axis=0) if loaded.ndim == 4 else loaded).astype(np.int32)
        if classes.shape != (height, width):
            sys.exit(f"{args.classes}: {classes.shape} pixels, the scan projects to {(height, width)}")
        classes = np.ascontiguousarray(classes)
    else:
        classes = np.random.default_rng(0).integers(0, 20, (height, width)).astype(np.int32)
    rows, columns = p["proj_y"].astype(np.int32), p["proj_x"].astype(np.int32)
    ranges, image = p["unproj_range"].astype(np.float32), p["proj_range"].astype(np.float32)
    grid = np.arange(5) - 2
    g = np.exp(-(grid[:, None] ** 2 + grid[None, :] ** 2) / 2.0)
    weights = (1 - g / g.sum()).astype(np.float32).ravel()
    out = np.zeros(rows.size, np.int32)
    address = lambda a: a.ctypes.data_as(ctypes.c_void_p)  # noqa: E731
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        kernel(address(image), address(classes), height, width, address(rows), address(columns), address(ranges), rows.size,
               5, 5, address(weights), 1.0, 20, -1, address(out))
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    print(f"range k-NN, {rows.size} points, {height} x {width}: {times[0]:.1f} ms fastest, "
          f"{times[len(times) // 2]:.1f} median, {times[-1]:.1f} slowest of {args.repeat}")


if __name__ == "__main__":
    main()
