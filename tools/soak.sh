#!/usr/bin/env bash
# Runs the whole test suite N times in a row on one build, stopping at the first failure:
#
#   tools/soak.sh 20            # about 2.5 minutes a run on a quiet 2-core machine
#
# Each run's output goes to $SOAK_OUT/run-K.log (default out/soak); one line per run is
# printed: its number, the test count Swift Testing reports, and its wall time. The exit status
# is that of the first failing run (0 when all N pass). This is how the reliability figure in
# the README ("the whole suite N times in a row") is produced.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
out=${SOAK_OUT:-out/soak}
mkdir -p "$out"
swift build --build-tests >/dev/null
echo "soak: $runs runs of the whole suite on $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources Tests Package.swift || echo ' (with uncommitted changes)'), logs in $out"
for k in $(seq 1 "$runs"); do
  log="$out/run-$k.log"
  started=$(date +%s)
  if CI=true swift test --skip-build >"$log" 2>&1; then status=0; else status=$?; fi
  seconds=$(( $(date +%s) - started ))
  summary=$(grep -Eo 'Test run with [0-9]+ tests? in [0-9]+ suites? (passed|failed)( after [0-9.]+ seconds)?' "$log" | tail -1 || true)
  printf 'run %d/%d: %s (%d s)\n' "$k" "$runs" "${summary:-no Swift Testing summary}" "$seconds"
  if [ "$status" -ne 0 ]; then
    echo "soak: run $k failed with status $status; its log is $log" >&2
    exit "$status"
  fi
done
echo "soak: all $runs runs passed"
