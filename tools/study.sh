#!/usr/bin/env bash
# The loss study of docs/loss-study.md, reproducible with one command:
#
#   tools/study.sh            # see docs/loss-study.md#cost for its wall time on each machine
#
# Six losses (cross-entropy, class-weighted CE, focal, Lovasz + wCE, the similarity-count
# subclassified loss, the feature-centroid loss) x two data-side remedies (none, rare-instance
# paste) x 3 seeds, trained on synthetic SemanticKITTI-format streets (4 training sequences of
# 20 scans 1 s apart, a staged validation street of 10 that holds every class and kind), 16
# epochs at width 512 with a cosine schedule, scored on the validation street (with the recall of
# each kind of appearance) and, out of domain, on the real sample's labelled scans when
# ../shared/data/semantickitti is there. Interrupted, it continues where it stopped (finished
# runs are only evaluated).
# Sizes can be changed: STUDY_SCANS (per training sequence), STUDY_INTERVAL (seconds of driving
# between training scans, default 1), STUDY_VALID_SCANS, STUDY_EPOCHS,
# STUDY_SEEDS, STUDY_WIDTH, STUDY_JOBS (trainings at once), STUDY_LOSSES, STUDY_REMEDIES (default
# none,paste; e.g. none,paste,mix: every loss with each data-side remedy), STUDY_OUT; the training
# time grows with scans x epochs x width (e.g. STUDY_SCANS=50 STUDY_VALID_SCANS=20 STUDY_EPOCHS=20
# STUDY_WIDTH=1024 is about 10 times as long).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${STUDY_OUT:-out/study}
scans=${STUDY_SCANS:-20}
interval=${STUDY_INTERVAL:-1}
valid=${STUDY_VALID_SCANS:-10}
epochs=${STUDY_EPOCHS:-16}
seeds=${STUDY_SEEDS:-3}
width=${STUDY_WIDTH:-512}
jobs=${STUDY_JOBS:-2}
losses=${STUDY_LOSSES:-ce,wce,focal,lovasz+wce,subclassified,centroid}
sample=${RANGESEG_SAMPLE:-../shared/data/semantickitti}

tools/setup.sh >/dev/null
swift build -c release --product rangeseg >/dev/null
# The study runs its own copy of the binary, so that rebuilding the checkout meanwhile cannot
# change it halfway (the first copy stays, so a resumed study keeps the binary it began with).
mkdir -p "$out"
[ -x "$out/rangeseg" ] || cp .build/release/rangeseg "$out/rangeseg"
bin="$out/rangeseg"
started=$(date +%s)

# The data, once: the label config gets the synthetic streets' class frequencies, so that
# class-weighted CE weighs by what the network sees and the tables order classes by it.
if [ ! -e "$out/data/sequences/08/velodyne" ]; then
  "$bin" synth --out "$out/data" --sequences 00,01,02,03 --scans "$scans" --interval "$interval" --seed 11 --config-out "$out/labels.yaml"
  "$bin" synth --out "$out/data" --sequences 08 --scans "$valid" --seed 11 --staged > /dev/null
fi

also=()
remedies=(--remedies "${STUDY_REMEDIES:-none,paste}")
[ -e "$sample/sequences/00/labels" ] && also=(--also-evaluate "$sample" --also-evaluate-sequences 00)
"$bin" compare --dataset "$out/data" --train-sequences 00,01,02,03 --valid-sequences 08 \
  --losses "$losses" --seeds "$seeds" --epochs "$epochs" --width "$width" --jobs "$jobs" \
  --train-config tools/study.yaml --label-config "$out/labels.yaml" "${also[@]}" "${remedies[@]}" --out "$out/runs"

# The seed-paired reading (gains over cross-entropy and of each remedy, with intervals).
python3 tools/study_report.py "$out/runs" > "$out/runs/report.md"

seconds=$(( $(date +%s) - started ))
printf 'study: %d s (%dh %02dm) of wall time for this invocation; results in %s/runs (comparison.md, report.md, gain.png, miou-curves.png, loss-curves.png)\n' \
  "$seconds" $((seconds / 3600)) $(((seconds % 3600) / 60)) "$out"
