import ArgumentParser
import Formats
import Foundation
import PointClouds
import Projection
import SemanticKITTI

struct ProjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Project scans into range images, written as NumPy .npz files (and PNG pictures).",
        discussion: """
        Scans are KITTI .bin files, PCD or PLY (x, y, z and remission or intensity). Each scan becomes one .npz holding the arrays of semantic-kitti-api's LaserScan:
        proj_range, proj_xyz, proj_remission, proj_idx, proj_mask, proj_x, proj_y, unproj_range, \
        and, when labels are known, proj_sem_label and proj_inst_label. A single scan is written \
        to OUT/<name>.npz; a sequence directory to OUT/<sequence>/<frame>.npz, using its labels/ \
        folder when there is one. Sequences are projected on all cores.

        Examples:
          rangeseg project ../shared/data/semantickitti/sequences/00 --out out/range --png
          rangeseg project scan.bin --labels scan.label --out out/one --height 64 --width 1024
        """
    )

    @Argument(help: ArgumentHelp("Scans (.bin, .pcd, .ply) or sequence directories (holding velodyne/).", valueName: "scan-or-sequence"))
    var inputs: [String]

    @Option(help: "Labels (.label) for a single scan given as input (a PCD/PLY may carry its own label field).")
    var labels: String?

    @Option(help: "Output directory.")
    var out: String

    @OptionGroup var projection: ProjectionOptions

    @Flag(help: "Also write a PNG per scan: range, remission and (with labels) classes, stacked.")
    var png = false

    @Option(help: "Repeat each image row this many times in PNGs, for legibility.")
    var pngStretch: Int = 2

    @Flag(help: "Leave out points with NaN/infinite coordinates or at range 0 (reported) instead of failing.")
    var skipInvalid = false

    @OptionGroup var labelConfig: LabelConfigOption

    func validate() throws {
        if labels != nil, inputs.count != 1 || !Self.isScanFile(inputs[0]) {
            throw ValidationError("--labels goes with exactly one scan file")
        }
        if pngStretch < 1 { throw ValidationError("--png-stretch must be at least 1") }
    }

    /// One scan to project and where its outputs go.
    struct Job: Sendable {
        var scan: URL
        var labels: URL?
        var output: URL // without extension
    }

    static func isScanFile(_ path: String) -> Bool {
        [".bin", ".pcd", ".ply"].contains { path.lowercased().hasSuffix($0) }
    }

    func run() throws {
        let outDir = URL(fileURLWithPath: out)
        var jobs: [Job] = []
        for input in inputs {
            let url = URL(fileURLWithPath: input)
            if Self.isScanFile(input) {
                let stem = url.deletingPathExtension().lastPathComponent
                jobs.append(Job(scan: url, labels: labels.map { URL(fileURLWithPath: $0) }, output: outDir.appendingPathComponent(stem)))
            } else {
                let sequence = try Sequence(directory: url)
                for frame in sequence.frames {
                    jobs.append(Job(scan: frame.scan, labels: frame.labels,
                                    output: outDir.appendingPathComponent(sequence.name).appendingPathComponent(frame.id)))
                }
            }
        }
        // The config names and colours labels; without --config a missing default only matters
        // for scans that carry labels.
        let config: LabelConfig? = labelConfig.path != nil ? try labelConfig.load() : try? labelConfig.load()
        let lookup = config?.lookup()
        let projector = SphericalProjection(projection.config)
        let (png, stretch, skipInvalid) = (self.png, pngStretch, self.skipInvalid)
        let work = jobs

        let bar = ProgressBar("project", total: jobs.count, unit: "scans")
        let started = Date()
        let skipped = try parallelMap(jobs.count) { i -> Int in
            let job = work[i]
            let cloud = try PointCloudFile.read(job.scan, labels: job.labels,
                                                options: .init(invalidPoints: skipInvalid ? .keep : .reject))
            let scan = cloud.scan
            let scanLabels = cloud.labels
            if let scanLabels {
                guard let lookup else { throw ValidationError("\(job.scan.path) carries labels: pass --config") }
                _ = try lookup.learningIDs(of: scanLabels, file: job.labels ?? job.scan) // every id must be known
            }
            let image = projector.project(scan)
            try image.archive(labels: scanLabels).write(npz: job.output.appendingPathExtension("npz"))
            if png {
                var pictures = [image.rangePicture(), image.remissionPicture()]
                if let scanLabels, let config {
                    pictures.append(image.labelPicture(rawIDs: image.semanticImage(scanLabels), config: config))
                }
                try RGBImage.stacked(pictures.map { $0.stretchedVertically(by: stretch) }, gap: 4)
                    .write(png: job.output.appendingPathExtension("png"))
            }
            bar.advance()
            return image.skippedPoints.count
        }
        bar.finish()
        let seconds = Date().timeIntervalSince(started)
        let totalSkipped = skipped.reduce(0, +)
        print("Projected \(jobs.count) scan\(jobs.count == 1 ? "" : "s") to \(projection.height) x \(projection.width) range images in \(String(format: "%.2f", seconds)) s.")
        if totalSkipped > 0 {
            print("Left out \(totalSkipped) points with NaN/infinite coordinates or range 0.")
        }
        print("Outputs: \(outDir.path)/ (.npz\(png ? " and .png" : ""))")
    }
}
