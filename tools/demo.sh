#!/usr/bin/env bash
# RangeSeg's demo: installs what is missing, builds in release, and runs the main job on
# data the project makes itself, then says where the outputs are.
#
#   1. rangeseg synth    a synthetic SemanticKITTI-format sequence (simulated HDL-64E)
#   2. rangeseg project  range images (.npz) and pictures (.png) of every scan
#
# With the real sample beside the checkout (../shared/data/semantickitti, or
# RANGESEG_SAMPLE=dataset-root) its scans are projected too.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
echo "demo: building rangeseg (release)"
swift build -c release --product rangeseg 2>&1 | tail -1
bin=.build/release/rangeseg
out=out/demo
rm -rf "$out"
mkdir -p "$out"

if "$bin" help synth >/dev/null 2>&1; then
  echo "demo: generating a synthetic sequence"
  "$bin" synth --out "$out/synthetic" --sequences 00 --scans 10 --seed 7
  "$bin" project "$out/synthetic/sequences/00" --out "$out/range/synthetic" --png
fi

sample=${RANGESEG_SAMPLE:-../shared/data/semantickitti}
if [ -d "$sample/sequences/00" ]; then
  echo "demo: projecting the real SemanticKITTI sample ($sample)"
  "$bin" project "$sample/sequences/00" --out "$out/range/semantickitti" --png
fi

echo
echo "demo: done. Outputs under $out/:"
find "$out" -maxdepth 3 -type d | sort | sed 's/^/  /'
echo "Range images are .npz files (np.load); pictures are .png: range, remission and classes, stacked."
