// swift-tools-version: 6.1
//
// The proof that labelling needs no Open MPI: one program that depends on the RangeSegInference
// product alone. tools/test.sh builds it where SwiftPM cannot find MPI's pkg-config file
// (`ompi-c`); it only builds if no target in RangeSegInference's closure depends on Cluster / CMPI.
import PackageDescription

let package = Package(
    name: "InferenceOnly",
    platforms: [.macOS(.v13)],
    // A path dependency's identity is its directory's name (which differs between checkouts):
    // `name:` lets the product below refer to it as RangeSeg.
    dependencies: [.package(name: "RangeSeg", path: "../..")],
    targets: [
        .executableTarget(name: "LabelWithoutMPI",
                          dependencies: [.product(name: "RangeSegInference", package: "RangeSeg")]),
    ]
)
