#!/usr/bin/env bash
# RangeSeg's demo: the whole job on data the project makes itself, in about 5 minutes on
# 2 cores with AVX512-BF16 (bf16), 8 on a Xeon whose bf16 is slower than its fp32 (fp32), 20 with
# AVX2 only (fp32, before the width Winograd; 9 on the Xeon held to AVX2 with it). Installs what is missing, builds in release, then:
#
#   1. rangeseg synth     synthetic SemanticKITTI-format sequences (a simulated HDL-64E):
#                         00-03 for training (scans 1 s apart, so twelve cover a street),
#                         08 for validation (--staged: every class and kind placed beside
#                         the drive, so each can be measured)
#   2. rangeseg project   range images (.npz) and pictures (.png) of the validation scans
#   3. rangeseg train     RangeNet-lite with the subclassified loss
#   4. rangeseg infer     .label predictions of sequence 08 in the official layout, with pictures
#   5. rangeseg loss      the subclassified loss's weight map of a validation scan
#   6. rangeseg evaluate  IoU per class and mIoU, also after the two k-NN clean-ups
#
# With the real SemanticKITTI sample beside the checkout (../shared/data/semantickitti, or
# RANGESEG_SAMPLE=dataset-root), its scans are labelled and scored too.
# DEMO_EPOCHS (default 20) and DEMO_SCANS (scans per training sequence, default 12) make it
# shorter or longer.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
echo "demo: building rangeseg (release; a first build takes a few minutes)"
swift build -c release --product rangeseg 2>&1 | tail -1
bin=.build/release/rangeseg
out=out/demo
epochs=${DEMO_EPOCHS:-20}
scans=${DEMO_SCANS:-12}
rm -rf "$out"
mkdir -p "$out"

echo; echo "== 1. synthetic data"
"$bin" synth --out "$out/synthetic" --sequences 00,01,02,03 --scans "$scans" --interval 1 --seed 7 --content-out "$out/synthetic/content.yaml"
"$bin" synth --out "$out/synthetic" --sequences 08 --scans 10 --seed 8 --staged >/dev/null

echo; echo "== 2. range images"
"$bin" project "$out/synthetic/sequences/08" --out "$out/range" --png

echo; echo "== 3. training ($epochs epochs, subclassified loss)"
"$bin" train --dataset "$out/synthetic" --train-sequences 00,01,02,03 --valid-sequences 08 \
  --epochs "$epochs" --loss subclassified --run "$out/run"

echo; echo "== 4. predictions"
"$bin" infer --checkpoint "$out/run/best.safetensors" --dataset "$out/synthetic" --sequences 08 \
  --out "$out/predictions" --format label,ply --png --arrays

echo; echo "== 5. the subclassified loss's weights on the trained network's logits (scan 08/000000)"
p="$out/predictions/sequences/08/predictions/000000"
"$bin" loss --logits "$p.logits.npy" --labels "$p.labels.npy" --loss subclassified \
  --weights-out "$out/weights-000000.npy" --weights-png "$out/weights-000000.png"

echo; echo "== 6. evaluation"
"$bin" evaluate --dataset "$out/synthetic" --predictions "$out/predictions" --sequences 08 \
  --compare-cleanup --json "$out/evaluation.json"

sample=${RANGESEG_SAMPLE:-../shared/data/semantickitti}
if [ -d "$sample/sequences/00/labels" ]; then
  echo; echo "== the real SemanticKITTI sample ($sample), with the network trained on synthetic scans"
  "$bin" project "$sample/sequences/00" --out "$out/range-semantickitti" --png
  "$bin" infer --checkpoint "$out/run/best.safetensors" --dataset "$sample" --sequences 00 \
    --out "$out/predictions-semantickitti" --png
  "$bin" evaluate --dataset "$sample" --predictions "$out/predictions-semantickitti" --sequences 00
fi

echo
echo "demo: done. Outputs under $out/:"
echo "  synthetic/                    the generated sequences (SemanticKITTI layout)"
echo "  range/08/*.npz, *.png         range images (np.load) and pictures: range, remission, classes"
echo "  run/                          checkpoints (best/last.safetensors), steps.csv, epochs.csv, loss.png/.svg, miou.png/.svg"
echo "  predictions/sequences/08/predictions/*.label, *.ply, *.png   predictions (and logits .npy)"
echo "  weights-000000.png            the subclassified loss's per-pixel weights on one scan"
echo "  evaluation.json               per-class IoU, mIoU, accuracy, confusion matrix"
