#!/usr/bin/env bash
# ThreadSanitizer over the tests that share the engine between threads: the engine's own, the
# training ones (trainers and segmenters side by side, the kernel dispatch), and the other
# users of the C kernels. Exits non-zero on a failing test or any race report (TSan makes the
# test process exit with 66). Builds into .build-tsan, beside the normal .build.
#
#   tools/tsan.sh                       # the default selection
#   tools/tsan.sh 'ConcurrencyTests'    # a --filter of your own
#
# No suppressions are needed. oneDNN (libdnnl) and its OpenMP runtime (libgomp) are not
# instrumented, so TSan sees neither their memory accesses nor their synchronisation; runs
# with OMP_NUM_THREADS=1 and =2 reported nothing from them. Should libgomp false positives
# appear elsewhere (TSan does not model OpenMP's barriers), rerun with OMP_NUM_THREADS=1.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build-tsan
swift build --build-tests --sanitize=thread --scratch-path "$scratch"
OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" \
TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=0 second_deadlock_stack=1}" \
    swift test --skip-build --sanitize=thread --scratch-path "$scratch" \
    --filter "${1:-EngineTests|TrainingTests|LossesTests|ProjectionTests}"
