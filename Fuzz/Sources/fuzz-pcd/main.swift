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
        return seeds
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    file.write(UnsafeRawBufferPointer(start: start, count: count))
    PointCloudChecks.read(file)
    return 0
}
