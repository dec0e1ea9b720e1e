import ArgumentParser
import CommandOptions
import Foundation
import RangeSegKit
import SemanticKITTI

struct ProjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Project scans into range images, written as NumPy .npz files (and PNG pictures).",
        discussion: """
        Scans are KITTI .bin files, PCD or PLY (x, y, z and remission or intensity). Each scan \
        becomes one .npz holding the arrays of semantic-kitti-api's LaserScan: proj_range, \
        proj_xyz, proj_remission, proj_idx, proj_mask, proj_x, proj_y, unproj_range, and, when \
        labels are known, proj_sem_label and proj_inst_label. A single scan is written to \
        OUT/<name>.npz; a sequence directory to OUT/<sequence>/<frame>.npz, using its labels/ \
        folder when there is one. Scans are projected on all cores.

        Examples:
          rangeseg project ../shared/data/semantickitti/sequences/00 --out out/range \\
            --png
          rangeseg project scan.bin --labels scan.label --out out/one --height 64 \\
            --width 1024
        """
    )

    @Argument(help: ArgumentHelp("Scans (.bin, .pcd, .ply), sequence directories (holding velodyne/) or folders of scans.", valueName: "scan-or-sequence"),
              transform: { URL(fileURLWithPath: $0) })
    var inputs: [URL]

    @Option(help: "Labels (.label) for a single scan given as input (a PCD/PLY may carry its own label field).",
            transform: { URL(fileURLWithPath: $0) })
    var labels: URL?

    @Option(help: "Output directory.", transform: { URL(fileURLWithPath: $0) })
    var out: URL

    @OptionGroup var projection: ProjectionOptions

    @Flag(help: "Also write a PNG per scan: range, remission and (with labels) classes, stacked.")
    var png = false

    @Option(help: "Repeat each image row this many times in PNGs, for legibility.")
    var pngStretch: Int = 2

    @Flag(help: "Leave out points with NaN/infinite coordinates or at range 0 (reported) instead of failing.")
    var skipInvalid = false

    @OptionGroup var labelConfig: LabelConfigOption

    func validate() throws {
        if labels != nil, inputs.count != 1 { throw ValidationError("--labels goes with exactly one scan file") }
        if pngStretch < 1 { throw ValidationError("--png-stretch must be at least 1") }
    }

    func run() throws {
        let items = try ScanSource.items(inputs, labels: labels)
        var export = RangeImageExport(projection: projection.config, labels: try labelConfig.load())
        export.pictures = png
        export.pictureStretch = pngStretch
        export.skipInvalidPoints = skipInvalid
        let bar = ProgressBar("project", total: items.count, unit: "scans")
        let summary = try export.run(items, out: out) { bar.advance() }
        bar.finish()
        print("Projected \(summary.scans) scan\(summary.scans == 1 ? "" : "s") to \(export.projection.height) x \(export.projection.width) range images in \(String(format: "%.2f", summary.seconds)) s.")
        if summary.skippedPoints > 0 {
            print("Left out \(summary.skippedPoints) points with NaN/infinite coordinates or range 0.")
        }
        print("Outputs: \(out.path)/ (.npz\(png ? " and .png" : ""))")
    }
}
