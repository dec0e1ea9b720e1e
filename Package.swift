// swift-tools-version: 6.1
//
// RangeSeg: LiDAR range-image semantic segmentation in Swift.
//
// The targets, bottom to top, are the architecture (each depends only on targets above it):
//
//   C libraries    CZlib (zlib), CDNNL (oneDNN 2.6), CKernels (hot loops in C),
//                  CPCL + PCLBridge (the Point Cloud Library behind a C interface)
//   Foundations    Random (the seeded generator), Parallel (ordered parallel map),
//                  Formats (atomic writes, .npy/.npz, safetensors, PNG, charts, strict decoding),
//                  Configuration (YAML configuration files), BundledData (data/*.yaml, embedded)
//   LiDAR data     SemanticKITTI (scans, labels, label config, sequences), Projection (range
//                  images), PointClouds (PCD/PLY, 3-D k-NN), Evaluation (IoU), Synth (simulator)
//   Learning       Engine (tensors, autograd, layers, optimisers on oneDNN), Losses (the losses as
//                  autograd nodes), Training (configuration, data, the training step, trainer,
//                  segmenter)
//   Application    RangeSegKit (inference, evaluation, loss comparison and pictures as library calls)
//   Command        rangeseg (parses, calls RangeSegKit, prints)
//   Examples       LibraryTour (the program of docs/library.md, built with the tests)
import PackageDescription

let package = Package(
    name: "RangeSeg",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "RangeSeg", targets: [
            "Random", "Parallel", "Formats", "Configuration", "BundledData",
            "SemanticKITTI", "Projection", "PointClouds", "Evaluation", "Synth",
            "Engine", "Losses", "Training", "RangeSegKit",
        ]),
        .executable(name: "rangeseg", targets: ["rangeseg"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // MARK: - C libraries (Debian packages, installed by tools/setup.sh)

        /// zlib: deflate and CRC-32 for `.npz` archives and PNG files.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        /// Intel oneDNN 2.6 (C API): the network's convolutions, batch norm, matrix products.
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        /// Per-element hot loops (projection, softmax cross-entropy, similarity counting) in C,
        /// which the C compiler vectorises.
        .target(name: "CKernels"),
        /// The Point Cloud Library (Debian libpcl-dev 1.13) through pkg-config; used by PCLBridge only.
        .systemLibrary(name: "CPCL", path: "Sources/CPCL", pkgConfig: "pcl_io",
                       providers: [.apt(["libpcl-dev", "pkg-config"])]),
        /// C++ with a plain C interface: PCD/PLY reading, PCD writing, k-d tree neighbours.
        /// The only target that includes PCL headers.
        .target(name: "PCLBridge", dependencies: ["CPCL"], linkerSettings: [.linkedLibrary("pcl_kdtree")]),

        // MARK: - Foundations

        /// The one seeded random number generator (xoshiro256**) and seed derivation.
        .target(name: "Random"),
        /// An ordered parallel map over indices with the first error winning.
        .target(name: "Parallel"),
        /// Atomic file writes, NumPy `.npy`/`.npz`, safetensors, PNG, colour maps, charts, and
        /// strict decoding of configuration (unknown keys are errors).
        .target(name: "Formats", dependencies: ["CZlib"]),
        /// YAML configuration files: decoding with errors naming file and key, human-readable writing.
        .target(name: "Configuration", dependencies: ["Formats", .product(name: "Yams", package: "Yams")]),
        /// `data/semantic-kitti.yaml`, `data/train.yaml` and `data/rangenet-lite.yaml`, embedded in the binary.
        .target(name: "BundledData", path: "data",
                resources: [.embedInCode("semantic-kitti.yaml"), .embedInCode("train.yaml"), .embedInCode("rangenet-lite.yaml")]),

        // MARK: - LiDAR data

        /// SemanticKITTI scans (`.bin`), labels (`.label`), the YAML label config, sequences.
        .target(name: "SemanticKITTI", dependencies: ["Formats", "Configuration", "BundledData"]),
        /// Spherical projection to range images and back to points, range-image k-NN clean-up.
        .target(name: "Projection", dependencies: ["SemanticKITTI", "Formats", "CKernels"]),
        /// PCD and PLY scans and predictions, and the 3-D k-NN label clean-up, for Swift.
        .target(name: "PointClouds", dependencies: ["PCLBridge", "SemanticKITTI", "Formats"]),
        /// Confusion matrices, IoU and mIoU with the official SemanticKITTI evaluator's semantics.
        .target(name: "Evaluation", dependencies: ["SemanticKITTI", "Formats"]),
        /// Synthetic SemanticKITTI-format scenes from a simulated Velodyne HDL-64E.
        .target(name: "Synth", dependencies: ["SemanticKITTI", "Random", "Parallel"]),

        // MARK: - Learning

        /// Tensors, reverse-mode autograd, layers, RangeNet-lite, optimisers and checkpoints on oneDNN.
        .target(name: "Engine", dependencies: ["CDNNL", "Formats", "Random"]),
        /// Losses for imbalanced segmentation, the subclassified loss at the centre: free
        /// functions of logit tensors, each one autograd node.
        .target(name: "Losses", dependencies: ["Engine", "Formats", "CKernels", "Random"]),
        /// Training configuration, range-image samples, the training step, the trainer and the segmenter.
        .target(
            name: "Training",
            dependencies: ["Engine", "Losses", "Projection", "Evaluation", "SemanticKITTI", "Formats", "Configuration",
                           "BundledData", "Random"]
        ),

        // MARK: - Application

        /// The jobs of the command as library calls: labelling datasets and files, evaluation with
        /// clean-up variants, loss comparisons, weight-map pictures.
        .target(
            name: "RangeSegKit",
            dependencies: ["Training", "Losses", "Engine", "Evaluation", "PointClouds", "Projection", "SemanticKITTI",
                           "Formats", "Parallel"]
        ),

        // MARK: - The command

        .executableTarget(
            name: "rangeseg",
            dependencies: [
                "RangeSegKit", "Training", "Losses", "Engine", "PointClouds", "Projection", "Synth",
                "SemanticKITTI", "Formats", "Random",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: - Examples

        /// The program shown in docs/library.md: RangeSeg used as a library.
        .executableTarget(name: "LibraryTour", dependencies: ["Training", "Losses", "Engine", "Projection", "SemanticKITTI"],
                          path: "Examples/LibraryTour"),

        // MARK: - Tests

        /// Locates the real SemanticKITTI sample for tests (fails under CI=true when missing).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "RandomTests", dependencies: ["Random", "Parallel"]),
        .testTarget(name: "FormatsTests", dependencies: ["TestSupport", "Formats", "Configuration"]),
        .testTarget(name: "SemanticKITTITests", dependencies: ["TestSupport", "SemanticKITTI", "Formats", "BundledData"]),
        .testTarget(name: "ProjectionTests", dependencies: ["TestSupport", "Projection", "SemanticKITTI", "Formats"]),
        .testTarget(name: "SynthTests", dependencies: ["TestSupport", "Synth", "Projection", "SemanticKITTI", "Random"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "CDNNL", "Formats", "Random"]),
        .testTarget(name: "LossesTests", dependencies: ["Losses", "Engine", "Random"]),
        .testTarget(name: "EvaluationTests", dependencies: ["TestSupport", "Evaluation", "SemanticKITTI", "Formats"]),
        .testTarget(name: "TrainingTests", dependencies: ["TestSupport", "Training", "Engine", "Losses", "Formats",
                                                          "SemanticKITTI", "Configuration", "BundledData", "Random"]),
        .testTarget(name: "RangeSegKitTests", dependencies: ["TestSupport", "RangeSegKit", "Training", "Losses", "Engine",
                                                             "Evaluation", "SemanticKITTI", "Formats"]),
        /// Runs the built `rangeseg` (and the LibraryTour example) as a user would: outputs, errors, the whole job.
        .testTarget(name: "CommandTests", dependencies: ["TestSupport", "Formats", "SemanticKITTI"]),
        .testTarget(name: "PointCloudsTests", dependencies: ["TestSupport", "PointClouds", "SemanticKITTI"]),
    ]
)
