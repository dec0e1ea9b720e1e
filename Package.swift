// swift-tools-version: 6.1
//
// RangeSeg: LiDAR range-image semantic segmentation in Swift.
//
// The targets, bottom to top, are the architecture:
//
//   C libraries      CZlib (zlib), CDNNL (oneDNN)
//   Formats          atomic writes, NumPy .npy/.npz, PNG, colour maps
//   SemanticKITTI    scans, labels, label config (YAML), sequence directories
//   Projection       spherical projection, reprojection, range-image k-NN clean-up
//   Synth            a simulated HDL-64E in procedurally generated streets
//   Engine           tensors, autograd, layers, optimisers, checkpoints (on oneDNN)
//   ONNXExport       a trained network as an ONNX model, for deployment
//   rangeseg         the command-line tool, the only code that prints
import PackageDescription

let package = Package(
    name: "RangeSeg",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "RangeSeg", targets: ["Formats", "SemanticKITTI", "Projection", "Synth", "Engine", "PointClouds", "ONNXExport"]),
        .executable(name: "rangeseg", targets: ["rangeseg"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
    ],
    targets: [
        // MARK: - C libraries (Debian packages, installed by tools/setup.sh)

        /// zlib: deflate and CRC-32 for `.npz` archives and PNG files.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        /// Per-element hot loops (projection, similarity counting) in C, which the C compiler vectorises.
        .target(name: "CKernels"),
        /// Intel oneDNN 2.6 (C API): the network's convolutions, batch norm and friends.
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),

        // MARK: - Files and data

        /// Atomic file writes, NumPy `.npy`/`.npz`, PNG, colour maps.
        .target(name: "Formats", dependencies: ["CZlib"]),
        /// SemanticKITTI scans (`.bin`), labels (`.label`), the YAML label config, sequences.
        .target(
            name: "SemanticKITTI",
            dependencies: ["Formats", .product(name: "Yams", package: "Yams")]
        ),
        /// Spherical projection to range images and back to points.
        .target(name: "Projection", dependencies: ["SemanticKITTI", "CKernels"]),
        /// Confusion matrices, IoU and mIoU with the official SemanticKITTI evaluator's semantics.
        .target(name: "Evaluation", dependencies: ["SemanticKITTI"]),
        /// Synthetic SemanticKITTI-format scenes from a simulated Velodyne HDL-64E.
        .target(name: "Synth", dependencies: ["SemanticKITTI"]),

        // MARK: - Learning

        /// Tensors, reverse-mode autograd, layers, optimisers and checkpoints on oneDNN.
        .target(name: "Engine", dependencies: ["CDNNL", "Formats", .product(name: "Yams", package: "Yams")]),

        /// Losses for imbalanced segmentation, the subclassified loss at the centre.
        .target(name: "Losses", dependencies: ["CDNNL", "CKernels"]),

        // MARK: - Point clouds (PCL)

        /// The Point Cloud Library (Debian libpcl-dev 1.13) through pkg-config; used by PCLBridge only.
        .systemLibrary(name: "CPCL", path: "Sources/CPCL", pkgConfig: "pcl_io",
                       providers: [.apt(["libpcl-dev", "pkg-config"])]),
        /// C++ with a plain C interface: PCD/PLY reading, PCD writing, k-d tree neighbours.
        /// The only target that includes PCL headers.
        .target(name: "PCLBridge", dependencies: ["CPCL"], linkerSettings: [.linkedLibrary("pcl_kdtree")]),
        /// PCD and PLY scans and predictions, and the 3-D k-NN label clean-up, for Swift.
        .target(name: "PointClouds", dependencies: ["PCLBridge", "SemanticKITTI"]),

        /// Training, validation and inference of RangeNet-lite on range images.
        .target(
            name: "Training",
            dependencies: ["Engine", "Losses", "Projection", "Evaluation", "SemanticKITTI",
                           .product(name: "Yams", package: "Yams")]
        ),

        // MARK: - Deployment

        /// A trained RangeNet-lite as an ONNX model (opset 17) with everything a deployer needs in
        /// its metadata. The messages are generated once from the project's `ONNX.proto` by
        /// `tools/generate-onnx.sh` and committed.
        .target(
            name: "ONNXExport",
            dependencies: ["Engine", "Training", "SemanticKITTI", "Formats",
                           .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["ONNX.proto"]
        ),

        // MARK: - The command

        .executableTarget(
            name: "rangeseg",
            dependencies: [
                "Formats", "SemanticKITTI", "Projection", "Evaluation", "Synth", "Engine", "Losses", "Training", "PointClouds", "ONNXExport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: - Tests

        /// Locates the real SemanticKITTI sample for tests (fails under CI=true when missing).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "FormatsTests", dependencies: ["TestSupport", "Formats"]),
        .testTarget(name: "SemanticKITTITests", dependencies: ["TestSupport", "SemanticKITTI"]),
        .testTarget(name: "ProjectionTests", dependencies: ["TestSupport", "Projection"]),
        .testTarget(name: "SynthTests", dependencies: ["TestSupport", "Synth", "Projection"]),
        .testTarget(name: "EngineTests", dependencies: ["TestSupport", "Engine"]),
        .testTarget(name: "LossesTests", dependencies: ["TestSupport", "Losses"]),
        .testTarget(name: "EvaluationTests", dependencies: ["TestSupport", "Evaluation"]),
        .testTarget(name: "TrainingTests", dependencies: ["TestSupport", "Training", "Formats"]),
        /// Runs the built `rangeseg` as a user would: outputs, errors, the whole job.
        .testTarget(name: "CommandTests", dependencies: ["TestSupport", "Formats", "SemanticKITTI"]),
        .testTarget(name: "PointCloudsTests", dependencies: ["TestSupport", "PointClouds"]),
        /// Exported models in ONNX Runtime against RangeSeg's own logits, and `rangeseg export`.
        .testTarget(name: "ONNXExportTests", dependencies: ["TestSupport", "ONNXExport", "Training", "Formats"]),
    ]
)
