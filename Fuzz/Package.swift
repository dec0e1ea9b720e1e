// swift-tools-version:5.4
//
// libFuzzer targets for every reader of RangeSeg (issue 14). Not part of the root package: the
// targets have no `main` of their own (libFuzzer supplies it), so they build only with the
// fuzzer runtime, through `tools/fuzz.sh`:
//
//     swift build --package-path Fuzz -c debug --sanitize=fuzzer --sanitize=address
//
// Tools version 5.4 on purpose: from 5.5 on, SwiftPM renames an executable's entry point to
// `<module>_main` and links `main` to it, which a module without `main` (parsed as a library, its
// entry point libFuzzer's) cannot satisfy.
import PackageDescription

/// One executable per reader, `fuzz-<name>`, from `Sources/fuzz-<name>/main.swift`.
let targets = ["bin-label", "pcd", "ply", "npy", "npz", "safetensors", "label-config", "train-config", "torch-checkpoint"]

let package = Package(
    name: "RangeSegFuzz",
    dependencies: [
        .package(name: "RangeSeg", path: ".."),
    ],
    targets: [
        /// The contract the targets check, scratch files for readers that take URLs, and seed writing.
        .target(name: "FuzzSupport", dependencies: [.product(name: "RangeSeg", package: "RangeSeg")]),
    ] + targets.map { name in
        .executableTarget(
            name: "fuzz-\(name)",
            dependencies: ["FuzzSupport", .product(name: "RangeSeg", package: "RangeSeg")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    }
)
