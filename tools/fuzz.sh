#!/usr/bin/env bash
# libFuzzer over RangeSeg's readers (issue 14): one target per reader, built with
# -sanitize=fuzzer,address from the separate package in Fuzz/ (the root package never builds it).
#
#   tools/fuzz.sh list                 # the targets
#   tools/fuzz.sh TARGET [SECONDS]     # build, then fuzz one target (default 600 s)
#   tools/fuzz.sh all SECONDS          # every target, one after another
#   tools/fuzz.sh build                # just build the targets
#   tools/fuzz.sh seeds [TARGET]       # rewrite the committed seed corpus Fuzz/corpus/TARGET
#   tools/fuzz.sh run TARGET FILE...   # run inputs once (a crash's artifact, a regression)
#
# A run reads the committed seeds (Fuzz/corpus/TARGET) and a scratch corpus outside git
# (out/fuzz/TARGET/corpus, where new inputs go), and writes its log to out/fuzz/TARGET/fuzz.log.
# A crash, sanitizer report, leak, timeout or out-of-memory input is saved as
# out/fuzz/TARGET/crash-* (or leak-, timeout-, oom-) and the script exits non-zero.
# FUZZ_NO_BUILD=1 skips the build (when another run is building or fuzzing); FUZZ_ARGS adds
# libFuzzer flags (e.g. FUZZ_ARGS=-runs=1000000).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

targets=(bin-label pcd ply npy npz safetensors label-config train-config torch-checkpoint)

# The largest input per target: a few times the largest seed.
max_len() {
    case "$1" in
        safetensors | torch-checkpoint) echo 32768 ;;
        pcd | ply) echo 16384 ;;
        npy) echo 4096 ;;
        *) echo 8192 ;;
    esac
}

# SwiftPM passes the two sanitizers to swiftc as separate -sanitize= flags, in no fixed order,
# and swiftc keeps only the last: Swift code got either ASan or coverage. One joined flag after
# them gives it both (the C and C++ targets take the two flags as they are).
build_flags=(--package-path Fuzz -c "${FUZZ_CONFIGURATION:-debug}" --sanitize=fuzzer --sanitize=address
             -Xswiftc -sanitize=fuzzer,address)

build() {
    if [[ "${FUZZ_NO_BUILD:-0}" != 1 ]]; then
        swift build "${build_flags[@]}" >&2
    fi
    bin=$(swift build "${build_flags[@]}" --show-bin-path)
}

known() {
    local t
    for t in "${targets[@]}"; do [[ "$t" == "$1" ]] && return 0; done
    echo "unknown target '$1'; the targets: ${targets[*]}" >&2
    exit 2
}

# ASan: leaks are findings too; abort on the first report so that libFuzzer saves the input.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=0}"
export RANGESEG_SAMPLE="${RANGESEG_SAMPLE:-$root/../shared/data/semantickitti}"
# Swift's backtracer reads the crashed process's memory in a way ASan reports, and then waits
# for itself forever: ASan's report is the one wanted.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"
# oneDNN's OpenMP threads would compete with a second fuzzer on the other core.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

fuzz_one() {
    local target=$1 seconds=$2
    local out="out/fuzz/$target"
    mkdir -p "$out/corpus"
    rm -f "$out/fuzz.log"
    local dict=() status=0
    case "$target" in
        pcd | ply | npy) dict=(-dict="Fuzz/dict/$target.dict") ;;
        label-config | train-config) dict=(-dict=Fuzz/dict/yaml.dict) ;;
    esac
    # shellcheck disable=SC2086
    "$bin/fuzz-$target" -max_total_time="$seconds" -rss_limit_mb=4096 -max_len="$(max_len "$target")" \
        -timeout=10 -print_final_stats=1 -artifact_prefix="$out/" "${dict[@]}" ${FUZZ_ARGS:-} \
        "$out/corpus" "Fuzz/corpus/$target" >"$out/fuzz.log" 2>&1 || status=$?
    local runs time
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log" | tail -1)
    time=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$out/fuzz.log" | tail -1)
    local corpus
    corpus=$(find "$out/corpus" "Fuzz/corpus/$target" -type f | wc -l)
    if [[ $status -eq 0 ]]; then
        echo "$target: ${runs:-?} executions in ${time:-?} s, corpus $corpus files: no findings"
    else
        local artifact
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$out/fuzz.log" | tail -1)
        echo "$target: FINDING after ${runs:-?} executions (libFuzzer exit $status): ${artifact:-see $out/fuzz.log}"
        grep -m 3 -E 'ERROR: AddressSanitizer|ERROR: libFuzzer|Fatal error|fuzz contract violated|SUMMARY' "$out/fuzz.log" >&2 || true
    fi
    return $status
}

command=${1:-}
case "$command" in
    list)
        printf '%s\n' "${targets[@]}"
        ;;
    build)
        build
        echo "built into $bin"
        ;;
    seeds)
        build
        for target in "${@:2}"; do known "$target"; done
        selected=("${@:2}")
        [[ ${#selected[@]} -eq 0 ]] && selected=("${targets[@]}")
        for target in "${selected[@]}"; do
            rm -rf "Fuzz/corpus/$target"
            RANGESEG_FUZZ_SEEDS="$root/Fuzz/corpus/$target" "$bin/fuzz-$target"
        done
        ;;
    run)
        known "${2:?tools/fuzz.sh run TARGET FILE...}"
        build
        "$bin/fuzz-$2" "${@:3}"
        ;;
    all)
        seconds=${2:?tools/fuzz.sh all SECONDS}
        build
        failed=0
        for target in "${targets[@]}"; do fuzz_one "$target" "$seconds" || failed=1; done
        exit $failed
        ;;
    "" | -h | --help)
        sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
        ;;
    *)
        known "$command"
        build
        fuzz_one "$command" "${2:-600}"
        ;;
esac
