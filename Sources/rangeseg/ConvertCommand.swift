import ArgumentParser
import CommandOptions
import Foundation
import PointClouds
import RangeSegKit
import SemanticKITTI

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert scans and labels between KITTI .bin/.label and PCD or PLY, both ways.",
        discussion: """
        PCD and PLY files get x, y, z, remission, and when labels are known the raw label (uint32 \
        'label') and the colour of its class from the label config's color_map, so they open \
        coloured in pcl_viewer, CloudCompare or Open3D. Reading takes remission from a field named \
        remission, else intensity (or the field --remission-field names); without one, remission is \
        0. A label field 'label' is read when present.

        Inputs are scans (.bin, .pcd, .ply), SemanticKITTI sequence directories (holding velodyne/ \
        and perhaps labels/), or directories of .pcd/.ply/.bin files. A scan given as a file goes to \
        OUT/<name>.<format>; the scans of a directory to OUT/<directory>/. --to bin writes a \
        sequence directory: velodyne/<name>.bin and labels/<name>.label. Every file is written \
        atomically. Directories are converted on all cores. A SemanticKITTI sequence converted to \
        PCD or PLY (OUT/NN/*.pcd) is a dataset of point-cloud folders: train, infer and evaluate \
        take OUT as --dataset, with --train-sequences NN.

        With --clean-3d, labels are first cleaned by a vote among each point's k nearest neighbours \
        in 3-D (PCL's k-d tree; never voting for 0/unlabeled; ties keep the point's own label, else \
        the smallest), and the time it took is reported.

        Examples:
          rangeseg convert ../shared/data/semantickitti/sequences/00 --to pcd --out \\
            out/pcd
          rangeseg convert out/pcd/00 --to bin --out out/kitti
          rangeseg convert scan.bin --labels scan.label --to ply --encoding ascii \\
            --out out/ply
          rangeseg convert ouster.pcd --to bin --remission-field reflectivity \\
            --invalid-points drop --out out/one
        """
    )

    @Argument(help: ArgumentHelp("Scans (.bin, .pcd, .ply), sequence directories or directories of scans.", valueName: "scan-or-directory"),
              transform: { URL(fileURLWithPath: $0) })
    var inputs: [URL]

    @Option(help: ArgumentHelp("Output format: pcd, ply, or bin (.bin scans and .label labels).", valueName: "format"))
    var to: PointCloudFormat

    @Option(help: "Output directory.", transform: { URL(fileURLWithPath: $0) })
    var out: URL

    @Option(help: "Labels (.label) for a single .bin scan given as input.", transform: { URL(fileURLWithPath: $0) })
    var labels: URL?

    @Option(help: ArgumentHelp("How PCD/PLY files store their points: ascii, binary or binary_compressed (PCD only).", valueName: "encoding"))
    var encoding: PointCloudEncoding = .binary

    @Option(help: ArgumentHelp("The remission field: read from this field (default: remission, else intensity; a file without it gets remission 0) and written under this name (default: remission).", valueName: "name"))
    var remissionField: String?

    @Option(help: ArgumentHelp("Points with a NaN or infinite coordinate or at range 0 (organised clouds mark missing returns so): reject (an error naming the point), keep, or drop (with their labels).", valueName: "policy"))
    var invalidPoints: InvalidPoints = .reject

    @Flag(name: .customLong("clean-3d"), help: "Clean labels by a vote among each point's nearest neighbours in 3-D before writing them.")
    var clean3D = false

    @Option(name: .customLong("knn"), help: "With --clean-3d: neighbours per point, the point itself included.")
    var knn: Int = KNNCleanup3D().k

    @Option(name: .customLong("knn-radius"), help: ArgumentHelp("With --clean-3d: farthest a voting neighbour may be, in metres.", valueName: "metres"))
    var knnRadius: Float = KNNCleanup3D().radius

    @OptionGroup var labelConfig: LabelConfigOption

    func validate() throws {
        if labels != nil, inputs.count != 1 || PointCloudFormat(url: inputs[0]) != .bin {
            throw ValidationError("--labels goes with exactly one .bin scan (PCD and PLY files carry their labels)")
        }
        if to == .ply, encoding == .binaryCompressed {
            throw ValidationError("PLY has no compressed encoding: use --encoding ascii or binary")
        }
        if let remissionField, remissionField.isEmpty { throw ValidationError("--remission-field needs a name") }
        if knn < 1 { throw ValidationError("--knn must be at least 1") }
        if !(knnRadius > 0) || !knnRadius.isFinite { throw ValidationError("--knn-radius must be a positive number of metres") }
    }

    func run() throws {
        let items = try ScanSource.items(inputs, labels: labels)
        var conversion = PointCloudConversion(format: to)
        conversion.encoding = encoding
        conversion.remissionField = remissionField
        conversion.invalidPoints = invalidPoints
        conversion.cleanup = clean3D ? KNNCleanup3D(k: knn, radius: knnRadius) : nil
        conversion.colors = to == .bin ? nil : try labelConfig.load().colors
        let bar = items.count > 1 ? ProgressBar("convert", total: items.count, unit: "scans") : nil
        let summary = try conversion.run(items, out: out) { bar?.advance() }
        bar?.finish()

        let what = to == .bin ? ".bin" : "\(to.rawValue.uppercased()) (\(encoding.rawValue))"
        print("Converted \(items.count) scan\(items.count == 1 ? "" : "s") (\(summary.points) points, \(summary.labelledScans) with labels) to \(what) in \(String(format: "%.2f", summary.seconds)) s.")
        if summary.scansWithoutRemission > 0 {
            let names = remissionField.map { "'\($0)'" } ?? "'remission' or 'intensity'"
            let n = summary.scansWithoutRemission
            print("Note: \(n) file\(n == 1 ? " has" : "s have") no \(names) field; their remission is 0.")
        }
        if summary.droppedPoints > 0 { print("Dropped \(summary.droppedPoints) points with NaN/infinite coordinates or at range 0.") }
        if clean3D {
            if let (changed, of, perScan) = summary.cleanup {
                print("3-D clean-up (k \(knn), radius \(knnRadius) m): \(changed) of \(of) labels changed (\(String(format: "%.2f", 100 * Double(changed) / Double(max(of, 1))))%), \(String(format: "%.1f", perScan * 1000)) ms per scan.")
            } else {
                print("3-D clean-up: no scan had labels to clean.")
            }
        }
        let written = Set(items.map { item in item.group.map { out.appendingPathComponent($0).path } ?? out.path }).sorted()
        print("Outputs: \(written.joined(separator: ", "))")
    }
}
