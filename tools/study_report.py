#!/usr/bin/env python3
"""Seed-paired reading of a loss study (tools/study.sh, docs/loss-study.md).

`rangeseg compare` writes the tables (mean and standard deviation over seeds per arm and class).
This adds what they cannot show: the gain of each arm (a loss, with a data-side remedy when the
study compares remedies) over a baseline arm seed by seed (seed k of every arm starts from the
same initial weights and sees the scans in the same order), its mean, standard deviation,
t = mean / (sd / sqrt(n)) and 95% interval, for mIoU over all classes, over the classes present
in the validation scans, over the frequent and the rare half of those classes, for the mean
recall of the rare kinds of appearance, and for mIoU on the extra evaluation (the real sample);
then each remedy's gain over no remedy with the same loss, and each kind's recall gain.

    python3 tools/study_report.py out/study/runs [--baseline ce]

It reads RUNS/scores.csv and RUNS/kinds.csv (seed by seed, written by compare) where they
exist, and otherwise each run's epochs.csv at its best epoch (the highest validation mIoU, the
checkpoint compare evaluates). Standard library only.
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
LOSSES = ["ce", "wce", "focal", "lovasz+wce", "subclassified", "centroid"]  # tools/study.sh's order
REMEDIES = ["none", "paste", "mix", "paste+mix"]


def split_arm(name):
    """(loss, remedy) of a run directory's arm name, `<loss>` or `<loss>-<remedy>`."""
    for remedy in REMEDIES:
        if name.endswith("-" + remedy):
            return name[: -len(remedy) - 1], remedy
    return name, ""


def arm_name(loss, remedy):
    return f"{loss}, {remedy}" if remedy else loss


def arm_order(arm):
    loss, remedy = arm
    return (LOSSES.index(loss) if loss in LOSSES else len(LOSSES), loss, REMEDIES.index(remedy) if remedy in REMEDIES else -1)


def runs_in(directory):
    """{(loss, remedy): {seed: (validation IoU row of the best epoch, epochs trained)}} from
    OUT/<arm>-seed<k>/epochs.csv."""
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
            found.setdefault(split_arm(match.group(1)), {})[int(match.group(2))] = (best, len(rows))
    return found


def csv_rows(directory, name):
    """The rows of RUNS/<name> (written by compare), or [] without it."""
    path = os.path.join(directory, name)
    if not os.path.exists(path):
        return []
    with open(path) as file:
        return list(csv.DictReader(file))


def scores_in(directory):
    """{scans: {(loss, remedy): {seed: row}}} from RUNS/scores.csv, or {} without it."""
    table = {}
    for row in csv_rows(directory, "scores.csv"):
        table.setdefault(row["scans"], {}).setdefault((row["loss"], row["remedy"]), {})[int(row["seed"])] = row
    return table


def kinds_in(directory):
    """{(loss, remedy): {seed: [kind rows]}} from RUNS/kinds.csv, or {} without it."""
    table = {}
    for row in csv_rows(directory, "kinds.csv"):
        table.setdefault((row["loss"], row["remedy"]), {}).setdefault(int(row["seed"]), []).append(row)
    return table


def rare_mean(rows):
    """Mean recall (in points) of the rare kinds that have points, as compare reports it."""
    rare = [float(r["recall"]) for r in rows if r["rare"] == "1" and int(r["points"]) > 0]
    return 100 * statistics.fmean(rare) if rare else 0.0


def describe(values):
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    t = mean / (sd / math.sqrt(len(values))) if sd > 0 else float("inf") if mean else 0.0
    return mean, sd, t


def interval(values):
    mean, sd, _ = describe(values)
    half = T_975.get(len(values) - 1, 1.96) * sd / math.sqrt(len(values)) if len(values) > 1 else float("inf")
    return f"{mean - half:+.1f} to {mean + half:+.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", help="the compare output directory (OUT/runs of tools/study.sh)")
    parser.add_argument("--baseline", default="ce", help="the baseline loss (with no remedy, or the first remedy, where remedies are compared)")
    parser.add_argument("--labels", help="label config whose content orders the classes (default: RUNS/label-config.yaml)")
    parser.add_argument("--valid-labels", help="the validation scans' .label files, whose classes count as present (default: RUNS/../data/sequences/08/labels)")
    args = parser.parse_args()

    found = runs_in(args.runs)
    if not os.path.exists(label_config := (args.labels or os.path.join(args.runs, "label-config.yaml"))):
        raise SystemExit(f"{label_config}: no label config (give --labels)")
    arms = sorted(found, key=arm_order)
    base_arm = next((arm for arm in arms if arm[0] == args.baseline), None)
    if base_arm is None:
        raise SystemExit(f"{args.runs}: no finished runs of the baseline {args.baseline} (found: {', '.join(arm_name(*a) for a in arms) or 'none'})")
    any_row = next(iter(found[base_arm].values()))[0]
    classes = [key[4:] for key in any_row if key.startswith("iou_") and key != "iou_unlabeled"]

    # The scores compare evaluated (the best checkpoints) where it wrote them, else epochs.csv.
    scores = scores_in(args.runs)
    validation = scores.get("validation")
    extra_name = next((name for name in scores if name != "validation"), None)
    kinds = kinds_in(args.runs)

    def validation_row(arm, seed):
        return validation[arm][seed] if validation else found[arm][seed][0]

    # Classes present in the validation scans (an absent class scores 0 for every arm, which
    # lowers every mIoU over all classes by the same amount).
    counts = validation_counts(args.valid_labels or os.path.join(args.runs, "..", "data", "sequences", "08", "labels"), label_config)
    present = [c for c in classes if counts.get(c, 0) > 0]
    order = prevalence(label_config, present)
    frequent, rare = order[: (len(order) + 1) // 2], order[(len(order) + 1) // 2 :]

    def class_score(which):
        return lambda arm, seed: 100 * statistics.fmean(float(validation_row(arm, seed)[f"iou_{c}"]) for c in which)

    measures = [("mIoU, all 19 classes", class_score(classes)), (f"mIoU, the {len(present)} present", class_score(present)),
                (f"frequent {len(frequent)}", class_score(frequent)), (f"rare {len(rare)}", class_score(rare))]
    if kinds:
        measures.append(("rare kinds' recall", lambda arm, seed: rare_mean(kinds[arm][seed])))
    if extra_name:
        measures.append((f"{extra_name} mIoU", lambda arm, seed: 100 * float(scores[extra_name][arm][seed]["miou"])))

    print(f"classes present in validation, most frequent in training first (points in validation): {', '.join(f'{c} ({counts[c]})' for c in order)}")
    print(f"frequent half: {', '.join(frequent)}; rare half: {', '.join(rare)}")
    print(f"scores: {'scores.csv (the best checkpoints as compare evaluated them)' if validation else 'each run’s epochs.csv at its best epoch'}"
          + (", kinds.csv" if kinds else "") + "\n")
    print("| arm | seeds | epochs | " + " | ".join(name for name, _ in measures) + " |")
    print("|---|---:|---:|" + "---:|" * len(measures))
    for arm in arms:
        seeds = sorted(found[arm])
        cells = []
        for _, measure in measures:
            mean, sd, _ = describe([measure(arm, k) for k in seeds])
            cells.append(f"{mean:.1f} ± {sd:.1f}")
        epochs = sorted({n for _, n in found[arm].values()})
        print(f"| {arm_name(*arm)} | {len(seeds)} | {'/'.join(map(str, epochs))} | " + " | ".join(cells) + " |")

    def paired_table(title, pairs):
        print(f"\n{title}, seed by seed (points): mean ± sd of the paired differences (t with n - 1 degrees of freedom), then the 95% interval of each\n")
        print("| arm | over | " + " | ".join(name for name, _ in measures) + " |")
        print("|---|---|" + "---:|" * len(measures))
        for arm, over in pairs:
            common = sorted(set(found[arm]) & set(found[over]))
            cells = []
            for _, measure in measures:
                gains = [measure(arm, k) - measure(over, k) for k in common]
                mean, sd, t = describe(gains)
                cells.append(f"{mean:+.1f} ± {sd:.1f} (t {t:+.1f}; {interval(gains)})")
            print(f"| {arm_name(*arm)} | {arm_name(*over)} | " + " | ".join(cells) + " |")

    paired_table(f"Gain over {arm_name(*base_arm)}", [(arm, base_arm) for arm in arms if arm != base_arm])
    remedy_pairs = [(arm, (arm[0], base_arm[1])) for arm in arms if arm[1] != base_arm[1] and (arm[0], base_arm[1]) in found]
    if remedy_pairs:
        paired_table(f"Each remedy's gain over {base_arm[1]} with the same loss", remedy_pairs)
        loss_pairs = [(arm, (base_arm[0], arm[1])) for arm in arms if arm[1] != base_arm[1] and arm[0] != base_arm[0] and (base_arm[0], arm[1]) in found]
        if loss_pairs:
            paired_table(f"Each loss's gain over {base_arm[0]} with the same remedy", loss_pairs)

    print(f"\nPer-class gain over {arm_name(*base_arm)} (IoU points, mean of the paired differences; * where p < 0.05 two-sided, |t| > 4.3 for 3 seeds)\n")
    print("| arm | " + " | ".join(order) + " |")
    print("|---|" + "---:|" * len(order))
    for arm in arms:
        if arm == base_arm:
            continue
        common = sorted(set(found[arm]) & set(found[base_arm]))
        cells = []
        for c in order:
            score = class_score([c])
            mean, sd, t = describe([score(arm, k) - score(base_arm, k) for k in common])
            cells.append(f"{mean:+.1f}{'*' if len(common) > 1 and abs(t) > T_975.get(len(common) - 1, 1.96) else ''}")
        print(f"| {arm_name(*arm)} | " + " | ".join(cells) + " |")

    if kinds:
        first = kinds[base_arm][min(kinds[base_arm])]
        names = [f"{r['kind']} ({r['class']}, {100 * float(r['share']):.1f}%{', rare' if r['rare'] == '1' else ''})" for r in first]
        print(f"\nPer-kind recall gain over {arm_name(*base_arm)} (points, mean of the paired differences; * as above). Each kind's share of its class "
              "(in the training scans where kinds.csv was written by a compare that judges by them) and validation points: "
              + ", ".join(f"{r['kind']} {r['points']}" for r in first) + "\n")
        print("| arm | " + " | ".join(names) + " |")
        print("|---|" + "---:|" * len(names))
        for arm in arms:
            if arm == base_arm:
                continue
            common = sorted(set(kinds[arm]) & set(kinds[base_arm]))
            cells = []
            for i in range(len(first)):
                mean, sd, t = describe([100 * (float(kinds[arm][k][i]["recall"]) - float(kinds[base_arm][k][i]["recall"])) for k in common])
                cells.append(f"{mean:+.1f}{'*' if len(common) > 1 and abs(t) > T_975.get(len(common) - 1, 1.96) else ''}")
            print(f"| {arm_name(*arm)} | " + " | ".join(cells) + " |")


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
