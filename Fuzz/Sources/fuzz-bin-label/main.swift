// A KITTI scan and its labels from one input: the first 4 bytes (little-endian) give the length
// n of the `.label` part (taken modulo the bytes that follow, plus one), the next n bytes are the
// `.label` file and the rest is the `.bin` file. Reads them as `Scan(bin:validation:)`,
// `ScanLabels(label:pointCount:)` and `PointCloudFile.read(_:labels:options:)` do.
import Foundation
import FuzzSupport
import PointClouds
import SemanticKITTI

let scanFile = ScratchFile(name: "scan.bin")
let labelFile = ScratchFile(name: "scan.label")

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    Seeds.writeIfRequested { _ in
        let sequence = Seeds.sample.appendingPathComponent("sequences/00")
        func input(scan: Data, labels: Data) -> Data {
            var data = Data()
            withUnsafeBytes(of: UInt32(labels.count).littleEndian) { data.append(contentsOf: $0) }
            return data + labels + scan
        }
        // The first 200 points of a real scan with their labels, the first 50 without, and a
        // scan of two points with a zero-range one (permissive reading keeps it, strict rejects).
        let scan = try Seeds.prefix(of: sequence.appendingPathComponent("velodyne/000000.bin"), bytes: 200 * 16)
        let labels = try Seeds.prefix(of: sequence.appendingPathComponent("labels/000000.label"), bytes: 200 * 4)
        let zero = Scan(values: [1.5, -2, 0.25, 0.5, 0, 0, 0, 0.1]).binData()
        return [
            "real-200-labelled": input(scan: scan, labels: labels),
            "real-50": input(scan: scan.prefix(50 * 16), labels: Data()),
            "zero-range-point": input(scan: zero, labels: ScanLabels(raw: [40, 10 | 7 << 16]).labelData()),
        ]
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: start, count: count)
    let rest = max(0, count - 4)
    let labelBytes = Int(littleEndianUInt32(input, at: 0)) % (rest + 1)
    let body = UnsafeRawBufferPointer(rebasing: input[min(4, count)...])
    labelFile.write(UnsafeRawBufferPointer(rebasing: body[..<labelBytes]))
    scanFile.write(UnsafeRawBufferPointer(rebasing: body[labelBytes...]))
    let scanBytes = rest - labelBytes

    if let scan = Contract.read(naming: [scanFile.path], { try Scan(bin: scanFile.url, validation: .strict) }) {
        Contract.require(scan.count * 16 == scanBytes && scan.count > 0, "\(scan.count) points from \(scanBytes) bytes")
        Contract.require(scan.invalidPoints().isEmpty, "strict reading kept an invalid point")
    }
    if let labels = Contract.read(naming: [labelFile.path], { try ScanLabels(label: labelFile.url) }) {
        Contract.require(labels.count * 4 == labelBytes, "\(labels.count) labels from \(labelBytes) bytes")
    }
    let options = PointCloudFile.ReadOptions(invalidPoints: .drop)
    if let cloud = Contract.read(naming: [scanFile.path, labelFile.path], {
        try PointCloudFile.read(scanFile.url, labels: labelFile.url, options: options)
    }) {
        Contract.require(cloud.labels?.count == cloud.scan.count, "\(cloud.labels?.count ?? -1) labels for \(cloud.scan.count) points")
        Contract.require(cloud.scan.invalidPoints().isEmpty, "an invalid point survived dropping")
        Contract.require(cloud.scan.count + cloud.droppedPoints == scanBytes / 16, "points and dropped points do not add up")
    }
    return 0
}
