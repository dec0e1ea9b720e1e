#!/usr/bin/env python3
"""Seed-paired reading of a loss study (tools/study.sh, docs/loss-study.md).

`rangeseg compare` writes the table (mean and standard deviation over seeds per loss and class).
This reads each run's epochs.csv (the validation IoU of every epoch) and adds what the table
cannot show: the gain of each loss over a baseline seed by seed (seed k of every loss starts from
the same initial weights and sees the scans in the same order), its mean, standard deviation and
t = mean / (sd / sqrt(n)), for mIoU over all classes, over the classes present in the validation
scans, and over the frequent and the rare half of those classes.

    python3 tools/study_report.py out/study/runs [--baseline ce]

Standard library only. The best epoch of a run is the one with the highest validation mIoU,
the one whose checkpoint (best.safetensors) compare evaluates.
"""
import argparse
import array
import collections
import csv
import math
import os
import re
import statistics


# Student's t, 97.5% quantile, by degrees of freedom: the half-width of a 95% interval is
# T_975[n - 1] * sd / sqrt(n).
T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}


def runs_in(directory):
    """{loss: {seed: best epoch row}} from OUT/<loss>-seed<k>/epochs.csv."""
    found = {}
    for name in sorted(os.listdir(directory)):
        match = re.fullmatch(r"(.+)-seed(\d+)", name)
        path = os.path.join(directory, name, "epochs.csv")
        if not match or not os.path.exists(path):
            continue
        with open(path) as file:
            rows = list(csv.DictReader(file))
        if rows:
            best = max(rows, key=lambda row: float(row["valid_miou"]))
            found.setdefault(match.group(1), {})[int(match.group(2))] = (best, len(rows))
    return found


def describe(values):
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    t = mean / (sd / math.sqrt(len(values))) if sd > 0 else float("inf") if mean else 0.0
    return mean, sd, t


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", help="the compare output directory (OUT/runs of tools/study.sh)")
    parser.add_argument("--baseline", default="ce")
    parser.add_argument("--labels", help="label config whose content orders the classes (default: RUNS/label-config.yaml)")
    parser.add_argument("--valid-labels", help="the validation scans' .label files, whose classes count as present (default: RUNS/../data/sequences/08/labels)")
    args = parser.parse_args()

    found = runs_in(args.runs)
    known = ["ce", "wce", "focal", "lovasz+wce", "subclassified", "centroid"]  # tools/study.sh's order
    if not os.path.exists(label_config := (args.labels or os.path.join(args.runs, "label-config.yaml"))):
        raise SystemExit(f"{label_config}: no label config (give --labels)")
    runs = {loss: found[loss] for loss in sorted(found, key=lambda l: (known.index(l) if l in known else len(known), l))}
    if args.baseline not in runs:
        raise SystemExit(f"{args.runs}: no finished runs of the baseline {args.baseline} (found: {', '.join(runs) or 'none'})")
    any_row = next(iter(runs[args.baseline].values()))[0]
    classes = [key[4:] for key in any_row if key.startswith("iou_") and key != "iou_unlabeled"]

    # Classes present in the validation scans (an absent class scores 0 for every loss, which
    # lowers every mIoU over all classes by the same amount).
    counts = validation_counts(args.valid_labels or os.path.join(args.runs, "..", "data", "sequences", "08", "labels"), label_config)
    present = [c for c in classes if counts.get(c, 0) > 0]
    order = prevalence(label_config, present)
    frequent, rare = order[: (len(order) + 1) // 2], order[(len(order) + 1) // 2 :]

    def score(row, which):
        return 100 * statistics.fmean(float(row[f"iou_{c}"]) for c in which)

    groups = [("mIoU, all 19 classes", classes), (f"mIoU, the {len(present)} present", present),
              (f"frequent {len(frequent)}", frequent), (f"rare {len(rare)}", rare)]
    print(f"classes present in validation, most frequent in training first (points in validation): {', '.join(f'{c} ({counts[c]})' for c in order)}")
    print(f"frequent half: {', '.join(frequent)}; rare half: {', '.join(rare)}\n")
    print("| loss | seeds | epochs | " + " | ".join(name for name, _ in groups) + " |")
    print("|---|---:|---:|" + "---:|" * len(groups))
    for loss, seeds in runs.items():
        cells = []
        for _, which in groups:
            mean, sd, _ = describe([score(row, which) for row, _ in seeds.values()])
            cells.append(f"{mean:.1f} ± {sd:.1f}")
        epochs = sorted({n for _, n in seeds.values()})
        print(f"| {loss} | {len(seeds)} | {'/'.join(map(str, epochs))} | " + " | ".join(cells) + " |")

    print(f"\nGain over {args.baseline}, seed by seed (points): mean ± sd of the paired differences, t with n - 1 degrees of freedom\n")
    print("| loss | " + " | ".join(name for name, _ in groups) + " | 95% interval, mIoU all classes | per-seed mIoU (present) gains |")
    print("|---|" + "---:|" * (len(groups) + 1) + "---|")
    base = runs[args.baseline]
    for loss, seeds in runs.items():
        if loss == args.baseline:
            continue
        common = sorted(set(seeds) & set(base))
        cells = []
        for _, which in groups:
            mean, sd, t = describe([score(seeds[k][0], which) - score(base[k][0], which) for k in common])
            cells.append(f"{mean:+.1f} ± {sd:.1f} (t {t:+.1f})")
        each = ", ".join(f"{score(seeds[k][0], present) - score(base[k][0], present):+.1f}" for k in common)
        mean, sd, _ = describe([score(seeds[k][0], classes) - score(base[k][0], classes) for k in common])
        half = T_975.get(len(common) - 1, 1.96) * sd / math.sqrt(len(common))
        print(f"| {loss} | " + " | ".join(cells) + f" | {mean - half:+.1f} to {mean + half:+.1f} | {each} |")

    print(f"\nPer-class gain over {args.baseline} (points, mean of the paired differences; * where p < 0.05 two-sided, |t| > 4.3 for 3 seeds)\n")
    print("| loss | " + " | ".join(order) + " |")
    print("|---|" + "---:|" * len(order))
    for loss, seeds in runs.items():
        if loss == args.baseline:
            continue
        common = sorted(set(seeds) & set(base))
        cells = []
        for c in order:
            mean, sd, t = describe([100 * (float(seeds[k][0][f"iou_{c}"]) - float(base[k][0][f"iou_{c}"])) for k in common])
            cells.append(f"{mean:+.1f}{'*' if len(common) > 1 and abs(t) > T_975.get(len(common) - 1, 1.96) else ''}")
        print(f"| {loss} | " + " | ".join(cells) + " |")


def validation_counts(directory, label_config):
    """Points per learning class name in the .label files of `directory`."""
    sections = read_sections(label_config)
    labels, learning, inverse = sections["labels"], sections["learning_map"], sections["learning_map_inv"]
    name_of_raw = {raw: labels.get(int(inverse.get(int(klass), -1)), "").strip('"') for raw, klass in learning.items()}
    if not os.path.isdir(directory):
        raise SystemExit(f"{directory}: no such directory of validation .label files (give --valid-labels)")
    counts = collections.Counter()
    for name in sorted(os.listdir(directory)):
        if name.endswith(".label"):
            values = array.array("I")
            with open(os.path.join(directory, name), "rb") as file:
                values.frombytes(file.read())
            counts.update(value & 0xFFFF for value in values)
    named = collections.Counter()
    for raw, n in counts.items():
        named[name_of_raw.get(raw, "?")] += n
    return named


def read_sections(label_config):
    """The label config's top-level mappings of integer keys, values as text."""
    sections, section = {}, None
    with open(label_config) as file:
        for line in file:
            if line[:1].isalpha():  # a top-level key: labels, content, learning_map, ...
                section = sections.setdefault(line.split(":")[0], {})
                continue
            match = re.match(r"\s+(\d+):\s*(.+?)\s*$", line)
            if match and section is not None:
                section[int(match.group(1))] = match.group(2)
    return sections


def prevalence(label_config, names):
    """`names` ordered by the content of the label config (most frequent first), summed over
    the raw ids that map to each learning class; the given order if the file is missing."""
    if not os.path.exists(label_config):
        return names
    sections = read_sections(label_config)
    labels, content = sections.get("labels", {}), sections.get("content", {})
    learning, inverse = sections.get("learning_map", {}), sections.get("learning_map_inv", {})
    share = {}
    for raw, value in content.items():
        if raw in learning:
            klass = int(learning[raw])
            name = labels.get(int(inverse.get(klass, -1)), "").strip('"')
            share[name] = share.get(name, 0.0) + float(value)
    return sorted(names, key=lambda name: -share.get(name, 0.0))


if __name__ == "__main__":
    main()
