#!/usr/bin/env python3
"""The statistics `rangeseg synth` is calibrated to, real scans beside synthetic ones.

Prints Markdown tables (docs/synthetic-data.md holds a run of it):
  - the median remission of each class by range band, and the share of its points that read 0;
  - the mean remission and the share of zeros of all points by range band;
  - points per scan, and each class's share of the labelled points.

Only statistics are compared, never where things are: the simulator is tuned to the first two
tables, and the scene geometry of the real scans plays no part.

    python3 tools/synth_statistics.py --real ../shared/data/semantickitti/sequences/00 \\
        --synthetic out/demo/synthetic/sequences/00 out/demo/synthetic/sequences/01
"""
import argparse
import glob
import os
import sys

import numpy as np

CLASSES = {40: "road", 44: "parking", 48: "sidewalk", 72: "terrain", 70: "vegetation",
           50: "building", 51: "fence", 10: "car", 71: "trunk", 80: "pole"}
BANDS = [(0, 10), (10, 20), (20, 30), (30, 40), (40, 80)]
MAX_POINTS = 10_000_000  # per file: a KITTI scan holds about 120,000


def read_sequences(directories, limit):
    """Points (N x 4) and semantic ids of the labelled scans of each sequence directory."""
    points, labels, scans = [], [], 0
    for directory in directories:
        files = sorted(glob.glob(os.path.join(directory, "labels", "*.label")))
        if not files:
            sys.exit(f"synth_statistics: {directory} has no labels/*.label")
        for label_file in files[:limit]:
            scan_file = os.path.join(directory, "velodyne", os.path.basename(label_file)[:-6] + ".bin")
            size = os.path.getsize(scan_file)
            if size % 16 or size // 16 > MAX_POINTS:
                sys.exit(f"synth_statistics: {scan_file}: {size} bytes is not a scan of float32 x, y, z, remission")
            p = np.fromfile(scan_file, dtype=np.float32).reshape(-1, 4)
            lab = np.fromfile(label_file, dtype=np.uint32)
            if len(lab) != len(p):
                sys.exit(f"synth_statistics: {label_file} holds {len(lab)} labels for {len(p)} points")
            points.append(p)
            labels.append(lab & 0xFFFF)
            scans += 1
    return np.concatenate(points), np.concatenate(labels), scans


def band_cells(values, ranges, statistic, minimum=50):
    cells = []
    for lo, hi in BANDS:
        inside = (ranges >= lo) & (ranges < hi)
        cells.append(f"{statistic(values[inside]):.2f}" if inside.sum() >= minimum else "-")
    return cells


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--real", nargs="+", required=True, help="real sequence directories (velodyne/, labels/)")
    parser.add_argument("--synthetic", nargs="+", required=True, help="synthetic sequence directories")
    parser.add_argument("--scans", type=int, default=50, help="labelled scans read per sequence (default 50)")
    args = parser.parse_args()
    sets = {"real": read_sequences(args.real, args.scans), "synthetic": read_sequences(args.synthetic, args.scans)}
    ranges = {k: np.linalg.norm(p[:, :3], axis=1) for k, (p, _, _) in sets.items()}

    bands = " | ".join(f"{lo}-{hi} m" for lo, hi in BANDS)
    print(f"Median remission by range, real / synthetic ({sets['real'][2]} and {sets['synthetic'][2]} scans):\n")
    print(f"| class | {bands} | reads 0 |")
    print("|---" * (len(BANDS) + 2) + "|")
    for cid, name in CLASSES.items():
        cells = []
        for k in ("real", "synthetic"):
            p, lab, _ = sets[k]
            m = lab == cid
            cells.append((band_cells(p[m, 3], ranges[k][m], np.median), f"{100 * np.mean(p[m, 3] == 0):.0f}%" if m.any() else "-"))
        row = [f"{a} / {b}" for a, b in zip(cells[0][0], cells[1][0])]
        print(f"| {name} | " + " | ".join(row) + f" | {cells[0][1]} / {cells[1][1]} |")

    print("\nAll points by range, real / synthetic:\n")
    print(f"| | {bands} |")
    print("|---" * (len(BANDS) + 1) + "|")
    for title, statistic in (("mean remission", np.mean), ("share reading 0", lambda v: np.mean(v == 0))):
        real = band_cells(sets["real"][0][:, 3], ranges["real"], statistic)
        synthetic = band_cells(sets["synthetic"][0][:, 3], ranges["synthetic"], statistic)
        print(f"| {title} | " + " | ".join(f"{a} / {b}" for a, b in zip(real, synthetic)) + " |")
    share = {k: {h: np.mean(ranges[k] < h) for h in (10, 20, 40)} for k in sets}
    print(f"| share of points within 10 / 20 / 40 m | "
          + " | ".join(f"{share['real'][h]:.2f} / {share['synthetic'][h]:.2f}" for h in (10, 20, 40)) + " | | |")

    print("\nPoints per scan and each class's share of the points, real / synthetic:\n")
    print("| | real | synthetic |\n|---|---|---|")
    print(f"| points per scan | {len(sets['real'][1]) / sets['real'][2]:.0f} | {len(sets['synthetic'][1]) / sets['synthetic'][2]:.0f} |")
    for cid, name in CLASSES.items():
        print(f"| {name} | {100 * np.mean(sets['real'][1] == cid):.1f}% | {100 * np.mean(sets['synthetic'][1] == cid):.1f}% |")


if __name__ == "__main__":
    main()
