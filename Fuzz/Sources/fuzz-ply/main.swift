// PLY files (ascii, binary little- and big-endian) through `PointCloudFile.read`, which hands
// them to PCL through the bridge after checking their header and sizes.
import Foundation
import FuzzSupport
import PointClouds
import SemanticKITTI

let file = ScratchFile(name: "cloud.ply")

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    Seeds.writeIfRequested { scratch in
        let (scan, labels, colors) = try PointCloudSeeds.realScan(points: 40)
        var seeds: [String: Data] = [:]
        func write(_ name: String, _ encoding: PointCloudEncoding, labelled: Bool, colored: Bool) throws {
            let url = scratch.appendingPathComponent(name + ".ply")
            try PointCloudFile.write(ply: url, scan: scan, labels: labelled ? labels : nil, colors: colored ? colors : nil,
                                     encoding: encoding)
            seeds[name + ".ply"] = try Data(contentsOf: url)
        }
        try write("ascii-labels-rgb", .ascii, labelled: true, colored: true)
        try write("binary", .binary, labelled: false, colored: false)
        try write("binary-labels-rgb", .binary, labelled: true, colored: true)
        // A mesh as other tools write it: vertices with intensity, then faces (a list property).
        seeds["ascii-mesh.ply"] = Data("""
            ply
            format ascii 1.0
            comment a triangle
            element vertex 3
            property float x
            property float y
            property float z
            property float intensity
            element face 1
            property list uchar int vertex_indices
            end_header
            1 2 3 0.5
            -4 5.5 0.25 1
            7 -8 9 0
            3 0 1 2

            """.utf8)
        // Big-endian binary, which PCL also reads: two vertices of x, y, z.
        var bigEndian = Data("ply\nformat binary_big_endian 1.0\nelement vertex 2\nproperty float x\nproperty float y\nproperty float z\nend_header\n".utf8)
        for value: Float in [1, 2, 3, -4.5, 0.25, 6] { withUnsafeBytes(of: value.bitPattern.bigEndian) { bigEndian.append(contentsOf: $0) } }
        seeds["binary-big-endian.ply"] = bigEndian
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
