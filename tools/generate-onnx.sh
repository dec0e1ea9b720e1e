#!/usr/bin/env bash
# Regenerates Sources/ONNXExport/ONNX.pb.swift from Sources/ONNXExport/ONNX.proto.
#
# Run by hand after editing ONNX.proto, never in builds or CI: the generated file is committed.
# Needs protoc (Debian: apt-get install protobuf-compiler) and swift-protobuf's protoc-gen-swift
# plugin at the version the package resolves, built once outside the project, e.g.
#   git clone https://github.com/apple/swift-protobuf ~/swift-protobuf
#   cd ~/swift-protobuf && git checkout 1.39.0 && swift build -c release --product protoc-gen-swift
# then
#   PROTOC_GEN_SWIFT=~/swift-protobuf/.build/release/protoc-gen-swift tools/generate-onnx.sh
set -euo pipefail
cd "$(dirname "$0")/.."
plugin="${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}"
if [ -z "$plugin" ] || [ ! -x "$plugin" ]; then
  echo "generate-onnx: set PROTOC_GEN_SWIFT to the protoc-gen-swift executable (see this script's header)" >&2
  exit 1
fi
command -v protoc >/dev/null || { echo "generate-onnx: protoc is missing (apt-get install protobuf-compiler)" >&2; exit 1; }
target=Sources/ONNXExport
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
protoc --plugin=protoc-gen-swift="$plugin" --proto_path="$target" \
  --swift_out="$scratch" --swift_opt=Visibility=Public ONNX.proto
{
  echo "// Generated from ONNX.proto by tools/generate-onnx.sh with $(protoc --version) and"
  echo "// protoc-gen-swift $("$plugin" --version | awk '{print $NF}'); committed so that builds never run the generator."
  echo
  cat "$scratch/ONNX.pb.swift"
} > "$target/ONNX.pb.swift"
echo "generate-onnx: wrote $target/ONNX.pb.swift"
