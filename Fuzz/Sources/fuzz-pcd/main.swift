// PCD files (ascii, binary, binary_compressed) through `PointCloudFile.read`, which hands them to
// PCL through the bridge after checking their header and sizes.
import Foundation
import FuzzSupport
import PointClouds
import SemanticKITTI

let file = ScratchFile(name: "cloud.pcd")

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    Seeds.writeIfRequested { scratch in
        let (scan, labels, colors) = try PointCloudSeeds.realScan(points: 40)
        var seeds: [String: Data] = [:]
        func write(_ name: String, _ encoding: PointCloudEncoding, labelled: Bool, colored: Bool, remission: String = "remission") throws {
            let url = scratch.appendingPathComponent(name + ".pcd")
            try PointCloudFile.write(pcd: url, scan: scan, labels: labelled ? labels : nil, colors: colored ? colors : nil,
                                     encoding: encoding, remissionField: remission)
            seeds[name + ".pcd"] = try Data(contentsOf: url)
        }
        try write("ascii-labels-rgb", .ascii, labelled: true, colored: true)
        try write("ascii-intensity", .ascii, labelled: false, colored: false, remission: "intensity")
        try write("binary-labels", .binary, labelled: true, colored: false)
        try write("binary-labels-rgb", .binary, labelled: true, colored: true)
        try write("binary_compressed-labels-rgb", .binaryCompressed, labelled: true, colored: true)
        try write("binary_compressed", .binaryCompressed, labelled: false, colored: false)
        // An organised cloud (2 rows) as a LiDAR driver writes it, with an intensity field and a
        // 16-bit ring number, one return missing (NaN).
        seeds["ascii-organised.pcd"] = Data("""
            # .PCD v0.7 - Point Cloud Data file format
            VERSION 0.7
            FIELDS x y z intensity ring
            SIZE 4 4 4 4 2
            TYPE F F F F U
            COUNT 1 1 1 1 1
            WIDTH 3
            HEIGHT 2
            VIEWPOINT 0 0 0 1 0 0 0
            POINTS 6
            DATA ascii
            1 2 3 0.5 0
            1.5 2.5 3.5 0.25 0
            nan nan nan 0 0
            -1 -2 0.5 0.75 1
            -1.5 -2.5 0.25 1 1
            4 5 6 0 1

            """.utf8)
        seeds["binary_compressed-padding.pcd"] = paddedCompressed()
        return seeds
    }
    return 0
}

/// binary_compressed data with `_` padding fields, which the bridge unpacks itself (one array
/// per field, the padding's included), as LZF literal runs: 6 points of 32 bytes.
func paddedCompressed() -> Data {
    let points = 6
    var arrays: [UInt8] = []
    for field in 0 ..< 4 {
        if field == 3 { arrays += [UInt8](repeating: 0xAA, count: 4 * points) }
        for i in 0 ..< points {
            let value = Float(i + 1) * (field == 3 ? 0.1 : Float(field + 1))
            withUnsafeBytes(of: value.bitPattern.littleEndian) { arrays += $0 }
        }
    }
    arrays += [UInt8](repeating: 0xBB, count: 12 * points)
    var packed: [UInt8] = []
    for start in stride(from: 0, to: arrays.count, by: 32) {
        let chunk = arrays[start ..< min(start + 32, arrays.count)]
        packed.append(UInt8(chunk.count - 1))
        packed += chunk
    }
    var data = Data("""
        VERSION 0.7
        FIELDS x y z _ intensity _
        SIZE 4 4 4 1 4 1
        TYPE F F F U F U
        COUNT 1 1 1 4 1 12
        WIDTH \(points)
        HEIGHT 1
        VIEWPOINT 0 0 0 1 0 0 0
        POINTS \(points)
        DATA binary_compressed

        """.utf8)
    for size in [UInt32(packed.count), UInt32(arrays.count)] { withUnsafeBytes(of: size.littleEndian) { data += $0 } }
    return data + Data(packed)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    file.write(UnsafeRawBufferPointer(start: start, count: count))
    PointCloudChecks.read(file)
    return 0
}
