import Foundation
import SemanticKITTI
import Testing
import TestSupport
@testable import PointClouds

/// PCD files RangeSeg writes are read by PCL's own command-line tools (Debian `pcl-tools`).
///
/// `pcl_convert_pcd_ascii_binary` loads our file with PCL and saves it again as binary; we read
/// its output back and find every point, label and colour unchanged. Outside CI the tests are
/// skipped when the tool is missing; under CI=true they fail instead, so the tool must be
/// installed (tools/setup.sh).
@Suite(.enabled(if: PCLTools.shouldRun && SampleData.shouldRun, Comment(rawValue: PCLTools.skipReason)))
final class PCLToolsTests {
    let directory = SampleData.temporaryDirectory("rangeseg-pcl-tools")

    deinit { try? FileManager.default.removeItem(at: directory) }

    @Test(arguments: [PointCloudEncoding.ascii, .binary, .binaryCompressed])
    func pclConvertReadsWhatRangeSegWrites(encoding: PointCloudEncoding) throws {
        let tool = try PCLTools.require("pcl_convert_pcd_ascii_binary")
        let frame = try Sample.require()
        let ours = directory.appendingPathComponent("ours-\(encoding.rawValue).pcd")
        let theirs = directory.appendingPathComponent("theirs-\(encoding.rawValue).pcd")
        try PointCloudFile.write(pcd: ours, scan: frame.scan, labels: frame.labels, colors: frame.config.colors, encoding: encoding)
        let output = try PCLTools.run(tool, [ours.path, theirs.path, "1"])
        #expect(output.contains("Loaded a point cloud with \(frame.scan.count) points"), "\(output)")
        #expect(output.contains("x y z remission label rgb"), "\(output)")
        let back = try PointCloudFile.read(theirs)
        #expect(bits(back.scan.values) == bits(frame.scan.values))
        #expect(back.labels == frame.labels)
        let ourColors = try PointCloudFile.read(ours).colors
        #expect(back.colors != nil && back.colors == ourColors)
    }
}

enum PCLTools {
    static let directories = ["/usr/bin", "/usr/local/bin"]

    static func path(_ tool: String) -> String? {
        directories.map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
    static var shouldRun: Bool { path("pcl_convert_pcd_ascii_binary") != nil || isCI }
    static let skipReason = "PCL's command-line tools (Debian pcl-tools) or the SemanticKITTI sample are missing; skipped outside CI"

    /// The tool's path, or a failure saying how to install it.
    static func require(_ tool: String) throws -> String {
        guard let found = path(tool) else { throw Missing(tool: tool) }
        return found
    }

    struct Missing: Error, CustomStringConvertible {
        let tool: String
        var description: String { "\(tool) is not installed: install Debian's pcl-tools (tools/setup.sh does)" }
    }

    /// Runs a tool, returning its standard output and error; a non-zero exit throws.
    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let result = try ChildProcess.run(URL(fileURLWithPath: tool), arguments)
        let output = result.stdout + result.stderr
        guard result.status == 0 else { throw Failed(tool: tool, status: result.status, output: output) }
        return output
    }

    struct Failed: Error, CustomStringConvertible {
        let tool: String, status: Int32, output: String
        var description: String { "\(tool) exited with status \(status): \(output)" }
    }
}
