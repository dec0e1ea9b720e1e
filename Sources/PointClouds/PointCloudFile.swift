import Formats
import Foundation
import SemanticKITTI

/// Scans in PCD, PLY and KITTI `.bin` files: reading any of them, and writing scans with their
/// labels and label colours as PCD or PLY so that they open coloured in pcl_viewer, CloudCompare
/// or Open3D.
///
/// PCD and PLY files are read by the Point Cloud Library (through the `PCLBridge` target),
/// which also writes PCD. PLY is written here, since PCL 1.13's ASCII PLY writer rounds values
/// to six digits. Every write is atomic: a temporary file in the destination's directory,
/// renamed into place.
///
/// Fields written: `x y z` (float32), the remission field (float32, named `remission` unless
/// asked otherwise), `label` (uint32: the raw SemanticKITTI label, semantic id in the low 16
/// bits, instance id in the high 16) and the colour of the point's semantic id (PCD: PCL's
/// packed `rgb` field, alpha 255; PLY: `red green blue` uchar properties).
public enum PointCloudFile {
    /// How to read PCD and PLY files.
    public struct ReadOptions: Sendable, Equatable {
        /// Field names tried for remission, in order; the first the file has is used, and with
        /// none of them remission is 0 (`PointCloud.remissionField` is then nil).
        public var remissionFields: [String]
        /// The field holding per-point labels, read when present.
        public var labelField: String
        /// Points with a NaN or infinite coordinate or at range 0.
        public var invalidPoints: InvalidPoints

        /// The names tried when none is given: `remission` (SemanticKITTI), then `intensity` (PCL, ROS).
        public static let defaultRemissionFields = ["remission", "intensity"]

        public init(remissionField: String? = nil, labelField: String = "label", invalidPoints: InvalidPoints = .reject) {
            remissionFields = remissionField.map { [$0] } ?? Self.defaultRemissionFields
            self.labelField = labelField
            self.invalidPoints = invalidPoints
        }
    }

    // MARK: - Reading

    /// Reads a scan from a `.bin`, `.pcd` or `.ply` file, told apart by the extension: the
    /// function the commands call wherever a scan is accepted. `labels`, a `.label` file with
    /// one label per point of the file, gives the labels of a `.bin` (and replaces the label
    /// field of a PCD or PLY); invalid points are dropped with their labels.
    ///
    /// Errors name the file: an unknown extension, a missing or truncated file, a malformed
    /// header, a cloud without x, y or z, an empty cloud, a label field that holds no labels,
    /// a label file of another length, and (with `.reject`) NaN, infinite or zero-range
    /// points, located by row and column in an organised cloud.
    public static func read(_ url: URL, labels labelFile: URL? = nil, options: ReadOptions = ReadOptions()) throws(FormatError) -> PointCloud {
        var cloud: PointCloud
        switch PointCloudFormat(url: url) {
        case .bin: cloud = PointCloud(scan: try Scan(bin: url, validation: .permissive))
        case .pcd: cloud = try read(try PCLCloud(pcd: url), options: options)
        case .ply: cloud = try read(try PCLCloud(ply: url), options: options)
        case nil:
            throw FormatError(file: url, reason: "unknown scan format '.\(url.pathExtension)': expected .bin, .pcd or .ply")
        }
        if let labelFile { cloud.labels = try ScanLabels(label: labelFile, pointCount: cloud.scan.count) }
        switch options.invalidPoints {
        case .keep: return cloud
        case .drop: return dropInvalid(cloud)
        case .reject:
            try rejectInvalid(cloud, file: url)
            return cloud
        }
    }

    /// Reads just the scan of a `.bin`, `.pcd` or `.ply` file (see `read(_:labels:options:)`).
    public static func readScan(_ url: URL, options: ReadOptions = ReadOptions()) throws(FormatError) -> Scan {
        try read(url, options: options).scan
    }

    static func read(_ file: PCLCloud, options: ReadOptions) throws(FormatError) -> PointCloud {
        let url = file.file
        let fields = file.fieldNames
        for axis in ["x", "y", "z"] where file.field(axis) == nil {
            throw FormatError(file: url, reason: "has no '\(axis)' field (its fields: \(fields.joined(separator: " "))); a scan needs x, y and z")
        }
        let count = file.count
        guard count > 0 else { throw FormatError(file: url, reason: "empty cloud (0 points)") }
        var values = [Float](repeating: 0, count: 4 * count)
        for (offset, axis) in ["x", "y", "z"].enumerated() {
            try file.copyFloats(field: file.field(axis)!, into: &values, stride: 4, offset: offset)
        }
        let remissionField = options.remissionFields.first { file.field($0) != nil }
        if let remissionField {
            try file.copyFloats(field: file.field(remissionField)!, into: &values, stride: 4, offset: 3)
        }
        let labels = try file.field(options.labelField).map { field throws(FormatError) in
            ScanLabels(raw: try file.uint32s(field: field))
        }
        let colors = try (file.field("rgb") ?? file.field("rgba")).map { field throws(FormatError) in
            try file.packedColors(field: field).map {
                LabelColor(r: UInt8(truncatingIfNeeded: $0 >> 16), g: UInt8(truncatingIfNeeded: $0 >> 8), b: UInt8(truncatingIfNeeded: $0))
            }
        }
        return PointCloud(scan: Scan(values: values), labels: labels, colors: colors,
                          width: file.width, height: file.height, remissionField: remissionField)
    }

    /// Throws for the first invalid point, saying where it is and how many there are.
    static func rejectInvalid(_ cloud: PointCloud, file url: URL) throws(FormatError) {
        guard let (first, problem, others) = cloud.scan.firstUnplaceablePoint() else { return }
        let more = others > 0 ? " (and \(others) more invalid points)" : ""
        if cloud.isOrganised {
            throw FormatError(file: url, reason: "organised cloud (\(cloud.height) rows x \(cloud.width) columns): point \(first) (row \(first / cloud.width), column \(first % cloud.width)) has \(problem.rawValue)\(more); organised clouds mark missing returns so: drop such points when reading (convert --invalid-points drop) to keep the measured ones")
        }
        throw FormatError(file: url, reason: "point \(first) has \(problem.rawValue)\(more)")
    }

    /// The cloud without its invalid points (and their labels and colours), unorganised.
    static func dropInvalid(_ cloud: PointCloud) -> PointCloud {
        let scan = cloud.scan
        if scan.allPointsPlaceable { return cloud }
        let keep = (0 ..< scan.count).filter { scan.problem(ofPoint: $0) == nil }
        var values = [Float]()
        values.reserveCapacity(4 * keep.count)
        for i in keep { values.append(contentsOf: scan.values[4 * i ..< 4 * i + 4]) }
        var out = cloud
        out.scan = Scan(values: values)
        out.labels = cloud.labels.map { labels in ScanLabels(raw: keep.map { labels.raw[$0] }) }
        out.colors = cloud.colors.map { colors in keep.map { colors[$0] } }
        out.width = keep.count
        out.height = 1
        out.droppedPoints = cloud.droppedPoints + scan.count - keep.count
        return out
    }

    // MARK: - Writing

    /// Writes a scan, with its labels and their colours when given, as PCD or PLY, told apart
    /// by the extension. `colors` maps raw semantic ids to colours (`LabelConfig.colors`);
    /// colours are written only with labels, black for an id the map lacks.
    public static func write(_ url: URL, scan: Scan, labels: ScanLabels? = nil, colors: [Int: LabelColor]? = nil,
                             encoding: PointCloudEncoding = .binary, remissionField: String = "remission") throws(FormatError) {
        switch PointCloudFormat(url: url) {
        case .pcd: try write(pcd: url, scan: scan, labels: labels, colors: colors, encoding: encoding, remissionField: remissionField)
        case .ply: try write(ply: url, scan: scan, labels: labels, colors: colors, encoding: encoding, remissionField: remissionField)
        case .bin:
            throw FormatError(file: url, reason: "a .bin holds no labels or colours: write it with Scan.write(bin:) and the labels with ScanLabels.write(label:)")
        case nil:
            throw FormatError(file: url, reason: "unknown point cloud format '.\(url.pathExtension)': expected .pcd or .ply")
        }
    }

    /// Checks what every writer needs; returns the packed colours (0xAARRGGBB) to write, if any.
    static func prepare(_ url: URL, scan: Scan, labels: ScanLabels?, colors: [Int: LabelColor]?,
                        remissionField: String) throws(FormatError) -> [UInt32]? {
        if let labels, labels.count != scan.count {
            throw FormatError(file: url, reason: "cannot write \(labels.count) labels for a scan of \(scan.count) points")
        }
        let reserved: Set<String> = ["x", "y", "z", "label", "rgb", "rgba", "red", "green", "blue", "_"]
        guard !remissionField.isEmpty, !reserved.contains(remissionField),
              remissionField.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
            throw FormatError(file: url, reason: "'\(remissionField)' cannot name the remission field: use ASCII letters, digits and '_', and none of \(reserved.sorted().joined(separator: ", "))")
        }
        guard let labels, let colors else { return nil }
        var table = [UInt32](repeating: 0xFF00_0000, count: Int(UInt16.max) + 1)
        for (id, color) in colors where (0 ... Int(UInt16.max)).contains(id) {
            table[id] = 0xFF00_0000 | UInt32(color.r) << 16 | UInt32(color.g) << 8 | UInt32(color.b)
        }
        return labels.raw.map { table[Int($0 & 0xFFFF)] }
    }

    /// Writes into `url` through a temporary file in its directory that `body` fills by path,
    /// synced and renamed into place; removed if anything fails.
    static func writeByPath(_ url: URL, _ body: (URL) throws(FormatError) -> Void) throws(FormatError) {
        let directory = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw FormatError(file: url, reason: "cannot create directory \(directory.path): \(error.localizedDescription)")
        }
        let suffix = String(UInt32.random(in: 0 ... UInt32.max), radix: 16)
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(suffix)")
        do throws(FormatError) {
            try body(temporary)
            let fd = open(temporary.path, O_RDONLY)
            if fd >= 0 { _ = fsync(fd); close(fd) }
            if rename(temporary.path, url.path) != 0 {
                throw FormatError(file: url, reason: "cannot rename the temporary file into place: \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw FormatError(file: url, reason: error.reason)
        }
    }
}
