#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite.
# The tests read the real SemanticKITTI sample from ../shared/data/semantickitti (or from
# $RANGESEG_SAMPLE); under CI=true a missing sample fails the run instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
swift build --build-tests
swift test --skip-build
