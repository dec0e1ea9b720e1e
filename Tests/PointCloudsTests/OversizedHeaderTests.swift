import Foundation
import SemanticKITTI
import Testing
import TestSupport
@testable import PointClouds

/// Headers that announce more than the file can hold are errors naming the file, refused by the
/// bridge before PCL sizes anything from them: sizes that wrap around 2^64, compressed data that
/// could not unpack to what it announces, and element counts past 32 bits.
final class OversizedHeaderTests {
    let directory = SampleData.temporaryDirectory("rangeseg-pointclouds-oversized")

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// The error reading `url` gave (the file it names and the reason), or nil when it read.
    func failure(reading url: URL) -> (file: String, reason: String)? {
        do {
            _ = try PointCloudFile.read(url)
            return nil
        } catch {
            return (error.file, error.reason)
        }
    }

    /// The failure reading a fuzz artifact (`base64`) saved as `name`; it must name the file.
    func artifactFailure(_ base64: String, named name: String) throws -> (file: String, reason: String) {
        let url = directory.appendingPathComponent(name)
        try #require(Data(base64Encoded: base64)).write(to: url)
        let error = try #require(failure(reading: url))
        #expect(error.file == url.path)
        return error
    }

    func pcdHeader(fields: String = "x y z", sizes: String = "4 4 4", types: String = "F F F", counts: String = "1 1 1",
                   width: String, height: String, points: String, data: String) -> String {
        "VERSION .7\nFIELDS \(fields)\nSIZE \(sizes)\nTYPE \(types)\nCOUNT \(counts)\nWIDTH \(width)\nHEIGHT \(height)\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS \(points)\nDATA \(data)\n"
    }

    /// 2^31 x 2^31 points of 4 bytes is 2^64 bytes: 0 when computed in 64 bits.
    @Test func pcdWhosePointsWrapAroundIsAnError() throws {
        let url = try writeText(pcdHeader(fields: "x", sizes: "4", types: "F", counts: "1", width: "2147483648", height: "2147483648",
                                          points: "0", data: "binary"), "wrap.pcd", in: directory)
        let error = try #require(failure(reading: url))
        #expect(error.file == url.path)
        #expect(!error.reason.isEmpty)
    }

    /// Ten bytes of LZF data cannot unpack to 4,000 (the header check lets 88 times the file
    /// size pass, for compressed data): refused before PCL allocates for them. A 4 MB claim is
    /// refused by the header check already.
    @Test func compressedPCDAnnouncingMoreThanLZFCanUnpackIsAnError() throws {
        for (points, message) in [(1000, "corrupt: 10 bytes of compressed data cannot unpack to the 4000 bytes announced (LZF expands at most 88 times)"),
                                  (1_000_000, "POINTS 1000000 of 4 bytes each are more than a")] {
            var data = Data(pcdHeader(fields: "x", sizes: "4", types: "F", counts: "1", width: "\(points)", height: "1",
                                      points: "\(points)", data: "binary_compressed").utf8)
            for size in [UInt32(10), UInt32(4 * points)] { withUnsafeBytes(of: size.littleEndian) { data.append(contentsOf: $0) } }
            data.append(Data(repeating: 0x1F, count: 10))
            let url = directory.appendingPathComponent("bomb-\(points).pcd")
            try data.write(to: url)
            let error = try #require(failure(reading: url))
            #expect(error.file == url.path)
            #expect(error.reason.hasPrefix(message), "\(error.reason)")
        }
    }

    /// A binary PLY with a list property: 4e9 vertices of 12 bytes cannot follow a short header.
    @Test func binaryPLYWithListsAnnouncingMoreThanFollowsIsAnError() throws {
        let header = "ply\nformat binary_little_endian 1.0\nelement vertex 4000000000\nproperty float x\nproperty float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n"
        var data = Data(header.utf8)
        data.append(Data(count: 64))
        let url = directory.appendingPathComponent("many-vertices.ply")
        try data.write(to: url)
        let error = try #require(failure(reading: url))
        #expect(error.file == url.path)
        #expect(error.reason == "truncated: the header announces elements of at least 48000000001 bytes in all but only 64 bytes follow it")
    }

    @Test func plyElementCountPast32BitsIsAnError() throws {
        let url = try writeText("ply\nformat ascii 1.0\nelement vertex 5000000000\nproperty float x\nproperty float y\nproperty float z\nend_header\n1 2 3\n",
                                "five-billion.ply", in: directory)
        let error = try #require(failure(reading: url))
        #expect(error.file == url.path)
        #expect(error.reason == "line 3: 5000000000 'vertex' elements are more than a point cloud holds (at most 4294967295)")
    }

    /// The pcd fuzz target's first finding (out-of-memory, minimised by hand from its artifact): a
    /// DATA line PCL cannot place gives the data offset (unsigned)-1, and the bridge allocated a
    /// 4 GB string for the header before the data.
    @Test func pcdDataLinePCLCannotPlaceIsAnError() throws {
        let error = try artifactFailure("IyAuUENEICAxdjAuNyAtIFBvaW50IENsb3VkIERhdGEgZmlsZSBmb3JtYXQKVkVSU0lPTiAwLjcKRklFTERTIHggeSB6IHJlbWlzc2lvbiBsYWJlbCByZ2IKU0laRSA0IDQgNCA0IDQgMgpUWVBFIEYgRiBGIEYgVSBVCkNPVU5UIDEgMSAxIDEgMSAxCldJRFRIIDQwCkhFSUdIVCAxClZJRVdQT0lOVCAwIDAgMCAxIDAgMCBuIGxhYmVsUE9JTkRBVEFUIDAgMCAwIDEgMCAwIDAKUE9JTlRTIDQwCkRBVEEgYXNjaQgIQAAAAAAAAAAAaEJeQlUjII84QV0YCEAuUENEIA==", named: "data-offset.pcd")
        #expect(error.reason == "the header has no DATA line (not a PCD file, or truncated within its header)")
    }

    /// The ply fuzz target's first finding (PCL's assert(false) in vertexColorCallback, an
    /// abort): colours other than red, green, blue in a row. And obj_info dimensions that do not
    /// match the vertices, which abort in vertexScalarPropertyCallback.
    @Test(arguments: [
        ("property uchar blue\n", "1 2 3 4\n5 6 7 8\n", "vertex property 'blue': uchar colours must be red, green and blue in a row (alpha right after them)"),
        ("property uchar red\nproperty uchar blue\nproperty uchar green\n", "1 2 3 4 5 6\n5 6 7 8 9 10\n",
         "vertex property 'red': uchar colours must be red, green and blue in a row (alpha right after them)"),
        ("property uchar alpha\n", "1 2 3 4\n5 6 7 8\n", "vertex property 'alpha': uchar colours must be red, green and blue in a row (alpha right after them)"),
        ("property list uchar float normal\n", "1 2 3 1 0.5\n5 6 7 1 0.5\n",
         "vertex property 'normal' is a list; point cloud vertices hold scalar properties only"),
    ])
    func plyVertexPropertiesPCLWouldAbortOnAreErrors(extra: String, body: String, reason: String) throws {
        let url = try writeText("ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nproperty float y\nproperty float z\n\(extra)end_header\n\(body)",
                                "colours.ply", in: directory)
        let error = try #require(failure(reading: url))
        #expect(error.file == url.path)
        #expect(error.reason == reason)
    }

    @Test func plyObjInfoThatDoesNotMatchTheVerticesIsAnError() throws {
        let header = "ply\nformat ascii 1.0\nobj_info num_cols 1\nobj_info num_rows 1\nelement vertex 2\nproperty float x\nproperty float y\nproperty float z\nend_header\n"
        let url = try writeText(header + "1 2 3\n5 6 7\n", "obj-info.ply", in: directory)
        let error = try #require(failure(reading: url))
        #expect(error.file == url.path)
        #expect(error.reason == "obj_info num_cols 1 and num_rows 1 do not describe the 2 vertices")
        // Matching dimensions give an organised cloud, as PCL's own writer records it.
        let organised = try writeText(header.replacingOccurrences(of: "num_cols 1", with: "num_cols 2") + "1 2 3\n5 6 7\n",
                                      "obj-info-2x1.ply", in: directory)
        #expect(try PointCloudFile.read(organised).scan.count == 2)
        let indented = try writeText("ply\nformat ascii 1.0\n obj_info num_cols 2\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\nend_header\n1 2 3\n",
                                     "indented.ply", in: directory)
        #expect(failure(reading: indented)?.reason == "line 3: header lines start with their keyword, not with white space")
    }

    /// The pcd fuzz target's second finding (ASan out of memory after 78,018 executions: a
    /// 128 GB allocation inside PCL's readHeader, which sizes POINTS x the point size at the POINTS
    /// line, before the bridge saw the header). Now checked before PCL reads the header.
    @Test func pcdPointsPastWhatTheFileCanHoldAreAnErrorBeforePCLReadsTheHeader() throws {
        _ = try artifactFailure("IyAuUENEIHYwLjcgLSBQb2ludCMgLlBDRCB2MC43IC0gUG9pbnQgQ2xvdWQgRGF0YSBmaWxlIGZvcm1hdApWRVJTSU9OIDAuNwpGSUVMRFMgeCB5IHpSU0lPTiAwLjcKRklFTERTIHggeSB6IGludGVuc2l0eUVMRFMgeCB5IHpSU0lPTiAwLjcKRklFTERTIHggeSB6IGludGVuc2l0eSByaW5nLgAKU0laRSA0IDQgNCA0IDIKVFlQRSBGICBDbG91ZCBEYXRhIGZpbGUgZm9ybWF0ClZFUlNJT04gMC43CkZJRUxEUyB4FhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFkYgRiBGIEYgVSBGCkNPVU5UIDEgMSAxIDEgMSAxCldJRFRIIDQwCkhFSUdIVCAxClZJRVdQT0lOVCAwIDAgMCAxIDAgMCAwClBPSU5UUyA0MApEQVRBIGJpbmFyeV9jb21wcmVzc2VkCkcCAADAAwAAH36XU0KKAEYgRiBGIFUKQ09VTlQgMSAxIDEgMSAxCldJRFRIIDMKSEVJR0hUIDIKVklFV1BPSU5UIDAgMCAwIDEgMCAwIDAKUE9JTlRTIDYKREFUQSBhc2NpaQoxIDIgMyAwLjUgMAoxLjUgMi41IFdCZDZXQoozkUKMPJBCJfSUQu6IkkJVOJBCHw71kUJX35FCufp+Qoclf0Jmy4BCaKmAQqJbf0JAXH1CH37MfEI90nxC8KJ9QslbXkL0SF5CaEJeQuq9XUIDqF1CH9r+XUJeAYdCvwSEQtIlgkLcBIJCY8YtQgUdLUJJ2yxCH3ceLEJVKilC6igqQiwaKUKuFSlCHSlxQuJSbUJ0RS1CH/pUvDxTi0U+/0K5PpzypT9PtsE/gy3mPxfl/z+vWwxAH6/MHECyYitAh4wyQQBTNEHxZDlBhIs8QYVqPkEkOUBBHwMWQ0GiaUZBI7NIQX7RMkFFqjVBVY84Qe8JO0G24j1BH/+gP0Hpt2xBUvFqQegNa0HGQG5Br2khQYwXI0HP/CNBHzSWJUGf/iRBrDkoQctwKUH5rStBOjt4QUPhdUEzFzhBH0m+My41IP8/nbkBQLnZAUCjiipAUXMpQAyRLkDyACxAQIEpQB98WytASkorQLVRGUAgchlAnNkaQJnIGkBr0hlA4MsYQBzCiRhA36kYQIMsGUDB+AdAkAgIQF0YCECz5gdAISADH1UnMC4yNSAwCm5hbghA9M8iQPecH0D1oB1A948dQBmb2z9DF9s/VNXaPx/BMNo/if3WP/ZD2D83Pdc/DV3XIG5hbiBuYT8U9BNAIegRQNyX3D8ECtejPQDgRgAHKVyPPbgeBT7gC1YnAAAAAAAAAD6uR+E9KVwPYAdAJ0CHQBtAC8AAAo/C9WAb4GcAAEcgcOATA8AAQCMgAAD/4GgDAjyH/+AUAwAAoJMgJw==", named: "points.pcd")
        let billion = try writeText(pcdHeader(fields: "x", sizes: "4", types: "F", counts: "1", width: "1000000000", height: "1",
                                              points: "1000000000", data: "ascii") + "1\n", "billion.pcd", in: directory)
        let size = try Data(contentsOf: billion).count
        #expect(failure(reading: billion)?.reason == "POINTS 1000000000 of 4 bytes each are more than a \(size)-byte file can hold")
        let badSize = try writeText(pcdHeader(fields: "x", sizes: "2147483647", types: "F", counts: "1", width: "1", height: "1",
                                              points: "1", data: "ascii") + "1\n", "size.pcd", in: directory)
        #expect(failure(reading: badSize)?.reason == "line 3: SIZE entry '2147483647' is not 1, 2, 4 or 8")
        let badCount = try writeText(pcdHeader(fields: "x", sizes: "4", types: "F", counts: "-3", width: "1", height: "1",
                                               points: "1", data: "ascii") + "1\n", "count.pcd", in: directory)
        #expect(failure(reading: badCount)?.reason == "line 5: COUNT entry '-3' is not a count from 0 to 16777216")
    }
}
