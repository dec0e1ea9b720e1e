import ArgumentParser
import Foundation
import PointClouds
import SemanticKITTI

extension PointCloudFormat: ExpressibleByArgument {}
extension PointCloudEncoding: ExpressibleByArgument {}
extension InvalidPoints: ExpressibleByArgument {}

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
        atomically. Directories are converted on all cores.

        With --clean-3d, labels are first cleaned by a vote among each point's k nearest neighbours \
        in 3-D (PCL's k-d tree; never voting for 0/unlabeled; ties keep the point's own label, else \
        the smallest), and the time it took is reported.

        Examples:
          rangeseg convert ../shared/data/semantickitti/sequences/00 --to pcd --out out/pcd
          rangeseg convert out/pcd/00 --to bin --out out/kitti
          rangeseg convert scan.bin --labels scan.label --to ply --encoding ascii --out out/ply
          rangeseg convert ouster.pcd --to bin --remission-field reflectivity --invalid-points drop --out out/one
        """
    )

    @Argument(help: ArgumentHelp("Scans (.bin, .pcd, .ply), sequence directories or directories of scans.", valueName: "scan-or-directory"))
    var inputs: [String]

    @Option(help: ArgumentHelp("Output format: pcd, ply, or bin (.bin scans and .label labels).", valueName: "format"))
    var to: PointCloudFormat

    @Option(help: "Output directory.")
    var out: String

    @Option(help: "Labels (.label) for a single .bin scan given as input.")
    var labels: String?

    @Option(help: ArgumentHelp("How PCD/PLY files store their points: ascii, binary or binary_compressed (PCD only).", valueName: "encoding"))
    var encoding: PointCloudEncoding = .binary

    @Option(help: ArgumentHelp("The remission field: read from this field (default: remission, else intensity; a file without it gets remission 0) and written under this name (default: remission).", valueName: "name"))
    var remissionField: String?

    @Option(help: ArgumentHelp("Points with a NaN or infinite coordinate or at range 0 (organised clouds mark missing returns so): reject (an error naming the point), keep, or drop (with their labels).", valueName: "policy"))
    var invalidPoints: InvalidPoints = .reject

    @Flag(name: .customLong("clean-3d"), help: "Clean labels by a vote among each point's nearest neighbours in 3-D before writing them.")
    var clean3D = false

    @Option(name: .customLong("knn"), help: "With --clean-3d: neighbours per point, the point itself included.")
    var knn: Int = 5

    @Option(name: .customLong("knn-radius"), help: ArgumentHelp("With --clean-3d: farthest a voting neighbour may be, in metres.", valueName: "metres"))
    var knnRadius: Float = 1

    @OptionGroup var labelConfig: LabelConfigOption

    func validate() throws {
        if labels != nil, inputs.count != 1 || PointCloudFormat(url: URL(fileURLWithPath: inputs[0])) != .bin {
            throw ValidationError("--labels goes with exactly one .bin scan (PCD and PLY files carry their labels)")
        }
        if to == .ply, encoding == .binaryCompressed {
            throw ValidationError("PLY has no compressed encoding: use --encoding ascii or binary")
        }
        if let remissionField, remissionField.isEmpty { throw ValidationError("--remission-field needs a name") }
        if knn < 1 { throw ValidationError("--knn must be at least 1") }
        if !(knnRadius > 0) || !knnRadius.isFinite { throw ValidationError("--knn-radius must be a positive number of metres") }
    }

    /// One scan to convert and where it goes.
    struct Job: Sendable {
        var scan: URL
        var labels: URL?
        /// The output directory of this scan.
        var directory: URL
        var name: String
    }

    /// What converting one scan found.
    struct Outcome: Sendable {
        var points = 0
        var dropped = 0
        var hadLabels = false
        var remissionMissing = false
        var relabelled = 0
        var cleanSeconds = 0.0
    }

    func run() throws {
        let jobs = try collectJobs()
        let outputs = jobs.flatMap { outputFiles(of: $0) }
        if let duplicate = Dictionary(grouping: outputs, by: \.path).first(where: { $0.value.count > 1 })?.key {
            throw ValidationError("two inputs would both be written to \(duplicate)")
        }
        let colors = try loadColors()
        let options = PointCloudFile.ReadOptions(remissionField: remissionField, invalidPoints: invalidPoints)
        let cleanup = clean3D
            ? KNNCleanup3D(k: knn, radius: knnRadius, threads: jobs.count == 1 ? ProcessInfo.processInfo.activeProcessorCount : 1)
            : nil
        let (format, encoding, fieldName) = (to, self.encoding, remissionField ?? "remission")

        let bar = jobs.count > 1 ? ProgressBar("convert", total: jobs.count, unit: "scans") : nil
        let started = Date()
        let outcomes = try parallelMap(jobs.count) { i -> Outcome in
            let job = jobs[i]
            var cloud = try PointCloudFile.read(job.scan, labels: job.labels, options: options)
            var outcome = Outcome(points: cloud.scan.count, dropped: cloud.droppedPoints, hadLabels: cloud.labels != nil,
                                  remissionMissing: cloud.remissionField == nil)
            if let cleanup, let labels = cloud.labels {
                let start = DispatchTime.now().uptimeNanoseconds
                let cleaned = cleanup(labels, scan: cloud.scan)
                outcome.cleanSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                outcome.relabelled = zip(labels.raw, cleaned.raw).filter { $0 != $1 }.count
                cloud.labels = cleaned
            }
            let files = outputFiles(of: job, format: format)
            if format == .bin {
                try cloud.scan.write(bin: files[0])
                try cloud.labels?.write(label: files[1])
            } else {
                try PointCloudFile.write(files[0], scan: cloud.scan, labels: cloud.labels, colors: colors,
                                         encoding: encoding, remissionField: fieldName)
            }
            bar?.advance()
            return outcome
        }
        bar?.finish()
        report(outcomes, jobs: jobs, seconds: Date().timeIntervalSince(started), colored: colors != nil)
    }

    /// The scans named by the inputs, with their labels and output directories.
    func collectJobs() throws -> [Job] {
        let fm = FileManager.default
        let outDir = URL(fileURLWithPath: out)
        var jobs: [Job] = []
        for input in inputs {
            let url = URL(fileURLWithPath: input)
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
                throw ValidationError("\(input): no such file or directory")
            }
            if !isDirectory.boolValue {
                guard PointCloudFormat(url: url) != nil else {
                    throw ValidationError("\(input): not a scan (expected .bin, .pcd or .ply)")
                }
                jobs.append(Job(scan: url, labels: labels.map { URL(fileURLWithPath: $0) }, directory: outDir,
                                name: url.deletingPathExtension().lastPathComponent))
            } else if fm.fileExists(atPath: url.appendingPathComponent("velodyne").path) {
                let sequence = try Sequence(directory: url)
                let directory = outDir.appendingPathComponent(sequence.name)
                jobs += sequence.frames.map { Job(scan: $0.scan, labels: $0.labels, directory: directory, name: $0.id) }
            } else {
                let names = try fm.contentsOfDirectory(atPath: url.path)
                    .filter { PointCloudFormat(url: URL(fileURLWithPath: $0)) != nil }.sorted()
                guard !names.isEmpty else {
                    throw ValidationError("\(input): holds no .bin, .pcd or .ply scans and no velodyne/ directory")
                }
                let directory = outDir.appendingPathComponent(url.lastPathComponent)
                jobs += names.map { name in
                    let file = url.appendingPathComponent(name)
                    return Job(scan: file, labels: nil, directory: directory, name: file.deletingPathExtension().lastPathComponent)
                }
            }
        }
        return jobs
    }

    /// Where a job's outputs go: the scan file, and for `bin` its label file.
    func outputFiles(of job: Job, format: PointCloudFormat? = nil) -> [URL] {
        switch format ?? to {
        case .bin:
            return [job.directory.appendingPathComponent("velodyne").appendingPathComponent(job.name + ".bin"),
                    job.directory.appendingPathComponent("labels").appendingPathComponent(job.name + ".label")]
        case .pcd, .ply:
            return [job.directory.appendingPathComponent(job.name + "." + (format ?? to).fileExtension)]
        }
    }

    /// The config's colours, for PCD and PLY output; nil for `bin`, or when no config is
    /// found and none was asked for (labels are then written without colours).
    func loadColors() throws -> [Int: LabelColor]? {
        guard to != .bin else { return nil }
        if labelConfig.path == nil, ProjectFiles.find("data/semantic-kitti.yaml") == nil { return nil }
        return try labelConfig.load().colors
    }

    func report(_ outcomes: [Outcome], jobs: [Job], seconds: Double, colored: Bool) {
        let points = outcomes.reduce(0) { $0 + $1.points }
        let labelled = outcomes.filter(\.hadLabels).count
        let what = to == .bin ? ".bin" : "\(to.rawValue.uppercased()) (\(encoding.rawValue))"
        print("Converted \(jobs.count) scan\(jobs.count == 1 ? "" : "s") (\(points) points, \(labelled) with labels) to \(what) in \(String(format: "%.2f", seconds)) s.")
        let missing = outcomes.filter(\.remissionMissing).count
        if missing > 0 {
            let names = remissionField.map { "'\($0)'" } ?? "'remission' or 'intensity'"
            print("Note: \(missing) file\(missing == 1 ? " has" : "s have") no \(names) field; their remission is 0.")
        }
        let dropped = outcomes.reduce(0) { $0 + $1.dropped }
        if dropped > 0 { print("Dropped \(dropped) points with NaN/infinite coordinates or at range 0.") }
        if labelled > 0, to != .bin, !colored {
            print("Note: no label config found (pass --config), so labels were written without colours.")
        }
        if clean3D {
            let cleaned = outcomes.filter(\.hadLabels)
            if cleaned.isEmpty {
                print("3-D clean-up: no scan had labels to clean.")
            } else {
                let changed = cleaned.reduce(0) { $0 + $1.relabelled }
                let cleanedPoints = cleaned.reduce(0) { $0 + $1.points }
                let perScan = cleaned.reduce(0) { $0 + $1.cleanSeconds } / Double(cleaned.count)
                print("3-D clean-up (k \(knn), radius \(knnRadius) m): \(changed) of \(cleanedPoints) labels changed (\(String(format: "%.2f", 100 * Double(changed) / Double(max(cleanedPoints, 1))))%), \(String(format: "%.1f", perScan * 1000)) ms per scan.")
            }
        }
        let written = Set(jobs.map(\.directory.path)).sorted()
        print("Outputs: \(written.joined(separator: ", "))")
    }
}
