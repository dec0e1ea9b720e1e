import Dispatch
import Foundation
import Parallel
import Random
import SemanticKITTI

/// One simulated sequence: a street scene generated from `(seed, sequence)` and the sensor's
/// drive through it. Everything it returns is a pure function of its inputs.
///
/// Frames and poses: the sensor frame is x forward, y left, z up with the optical centre at the
/// origin (the road at z = -`mountHeight`), as in KITTI's `.bin` files. `poses.txt` holds KITTI
/// camera-0 poses, `Tr * P_i * Tr^-1`, where `P_i` is the sensor's pose at scan `i` in the
/// sensor frame of scan 0 and `Tr` the calibration's Velodyne-to-camera transform. So, as for
/// real KITTI data, `Tr^-1 * pose_i * Tr` maps points of scan `i` into the frame of scan 0.
public struct SequenceSimulator: Sendable {
    public let name: String
    public let scans: Int
    public let sensor: SensorModel
    public let seed: UInt64
    /// Seconds of driving from one scan to the next: the sensor's frame period (every scan it
    /// makes) unless a longer one is asked for.
    public let interval: Double
    let scene: Scene

    /// - Parameters:
    ///   - seed: the run's seed.
    ///   - sequence: the sequence's name (`"00"`, `"8"` and `"08"` are the same sequence).
    ///   - scans: scans in the sequence.
    ///   - interval: seconds of driving between scans; nil: the sensor's frame period
    ///     (`1 / sensor.frameRate`, every scan it makes). The world is the same for any
    ///     interval, so scan `i` at interval 1 s is scan `10 i` at the HDL-64E's 0.1 s, up to the
    ///     sensor's noise.
    ///   - staged: place every class and kind beside the drive on purpose (validation
    ///     sequences; see `SynthConfiguration.staged`).
    public init(seed: UInt64, sequence: String, scans: Int, interval: Double? = nil, sensor: SensorModel = .hdl64e,
                staged: Bool = false) {
        precondition(scans > 0, "a sequence needs at least one scan")
        let interval = interval ?? 1 / sensor.frameRate
        precondition(interval > 0 && interval.isFinite, "scans need a positive interval")
        name = SemanticKITTIDataset.normalise(sequence)
        self.scans = scans
        self.sensor = sensor
        self.interval = interval
        self.seed = RandomGenerator.derive(seed, RandomGenerator.hash(name))
        scene = SceneGenerator.generate(seed: self.seed, duration: Double(scans) * interval, staged: staged)
    }

    /// Time of scan `i`, seconds from the first.
    public func time(_ index: Int) -> Double { Double(index) * interval }

    public var times: [Double] { (0 ..< scans).map(time) }

    /// The KITTI calibration written to `calib.txt` (sequences 00-02 of the real data set).
    public var calibration: Calibration { KITTICalibration.sequences00to02 }

    /// Pose of the sensor at scan `i` in the sensor frame of scan 0.
    public func sensorPose(_ index: Int) -> Matrix3x4 {
        func world(_ t: Double) -> Matrix3x4 {
            let s = scene.trajectory.state(at: t)
            let c = cos(s.yaw), n = sin(s.yaw)
            return Matrix3x4([c, -n, 0, s.x, n, c, 0, s.y, 0, 0, 1, sensor.mountHeight])
        }
        return world(time(0)).affineInverse().composed(with: world(time(index)))
    }

    /// Camera-0 poses as in `poses.txt`: `Tr * sensorPose(i) * Tr^-1`.
    public var poses: [Matrix3x4] {
        let tr = calibration.velodyneToCamera, inverse = tr.affineInverse()
        return (0 ..< scans).map { tr.composed(with: sensorPose($0)).composed(with: inverse) }
    }

    /// Scan `index` and its labels: points ordered beam by beam from the top beam down, each
    /// beam counter-clockwise from straight ahead, as in KITTI.
    public func scan(_ index: Int) -> (scan: Scan, labels: ScanLabels) {
        let out = cast(index)
        return (Scan(values: out.values), ScanLabels(raw: out.labels))
    }

    /// Scan `index`, its labels, and each point's kind of appearance (`SynthKind` raw values, 0
    /// for a point of a class without kinds).
    public func scanWithKinds(_ index: Int) -> (scan: Scan, labels: ScanLabels, kinds: [UInt32]) {
        let out = cast(index)
        return (Scan(values: out.values), ScanLabels(raw: out.labels), out.kinds)
    }

    private func cast(_ index: Int) -> RayCaster.Output {
        precondition((0 ..< scans).contains(index), "scan \(index) is not in 0..<\(scans)")
        return RayCaster(sensor: sensor).cast(scene: scene, time: time(index), seed: RandomGenerator.derive(seed, UInt64(index), 0x5CA7))
    }

    /// Number of instances (things: vehicles, people, bicycles) in the scene.
    public var instanceCount: Int { scene.instanceCount }

    /// Number of static primitives and of movers in the scene.
    public var sceneSize: (primitives: Int, movers: Int) { (scene.statics.count, scene.movers.count) }
}

/// What to simulate.
public struct SynthConfiguration: Sendable {
    public var seed: UInt64
    /// Sequence names, e.g. `["00", "01", "08"]`.
    public var sequences: [String]
    /// Scans per sequence.
    public var scans: Int
    /// Seconds of driving between scans (nil: every scan the sensor makes, 0.1 s for the
    /// HDL-64E). Consecutive scans at 10 Hz show nearly the same scene, so a training set of a
    /// few scans per street sees more of it with a longer interval.
    public var interval: Double?
    public var sensor: SensorModel
    /// Worker threads (scans are simulated in parallel); defaults to the number of cores.
    public var workers: Int
    /// Places every class and kind beside the drive on purpose (an exhibit where the drive
    /// starts and every 160 m after), so that a short validation sequence holds enough points of
    /// each to measure; the rest of the world is the same as without.
    public var staged: Bool

    public init(seed: UInt64, sequences: [String], scans: Int, interval: Double? = nil, sensor: SensorModel = .hdl64e,
                workers: Int = ProcessInfo.processInfo.activeProcessorCount, staged: Bool = false) {
        self.seed = seed
        self.sequences = sequences
        self.scans = scans
        self.interval = interval
        self.sensor = sensor
        self.workers = workers
        self.staged = staged
    }

    /// Why the configuration cannot run, or nil.
    public func problem() -> String? {
        if sequences.isEmpty { return "no sequences given" }
        let names = sequences.map(SemanticKITTIDataset.normalise)
        if let bad = names.first(where: { $0.isEmpty || $0.contains("/") || $0 == "." || $0 == ".." }) {
            return "'\(bad)' is not a sequence name"
        }
        if Set(names).count != names.count { return "a sequence is named twice" }
        if scans < 1 { return "--scans must be at least 1 (got \(scans))" }
        if scans > 999_999 { return "--scans must be at most 999999 (got \(scans))" }
        if let interval {
            let period = 1 / sensor.frameRate
            if !(interval >= period && interval <= 60) {
                return "--interval must be between one scan period (\(period) s) and 60 s (got \(interval))"
            }
        }
        if sensor.firings < 1 || sensor.elevations.isEmpty { return "the sensor needs at least one beam and one firing" }
        if workers < 1 { return "at least one worker is needed" }
        return nil
    }
}

/// A scan that has been written.
public struct SynthProgress: Sendable {
    public var sequence: String
    public var index: Int
    public var points: Int
}

/// What a run wrote.
public struct SynthReport: Sendable {
    public var histogram: ClassHistogram
    public var scans: Int
    public var points: Int { histogram.total }
    /// The sequence directories written.
    public var directories: [URL]
    /// Each sequence's kinds of appearance with their shares, as written to its `subclasses.yaml`.
    public var kinds: [SubclassCatalog]
    /// The kinds' shares over everything written.
    public var allKinds: SubclassCatalog

    /// The kinds and their shares, a line each, rare ones marked.
    public var kindTable: String {
        var lines = ["kind            class          share of class"]
        for kind in allKinds.kinds {
            let className = SynthClass(rawValue: UInt16(kind.rawClass))?.name ?? "id \(kind.rawClass)"
            lines.append(kind.name.padding(toLength: 16, withPad: " ", startingAt: 0) + className.padding(toLength: 15, withPad: " ", startingAt: 0)
                + String(format: "%6.1f%%", kind.share * 100) + (kind.share < SubclassCatalog.rareShare ? "  rare" : ""))
        }
        return lines.joined(separator: "\n")
    }
}

public struct SynthError: Error, CustomStringConvertible, LocalizedError, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
    public var errorDescription: String? { description }
}

/// Writes simulated sequences in the SemanticKITTI layout:
///
///     <root>/sequences/NN/velodyne/NNNNNN.bin
///     <root>/sequences/NN/labels/NNNNNN.label
///     <root>/sequences/NN/subclasses/NNNNNN.label   each point's kind (`SynthKind`), 0 for none
///     <root>/sequences/NN/subclasses.yaml           the kinds: id, name, class, share of its class
///     <root>/sequences/NN/calib.txt, poses.txt, times.txt
public enum Synthesizer {
    /// Simulates and writes every scan of `configuration` under `root`, on
    /// `configuration.workers` threads. The files depend on the configuration only, not on the
    /// number of workers or their scheduling. `progress` is called (from worker threads) after
    /// each scan is written.
    public static func run(_ configuration: SynthConfiguration, root: URL,
                           progress: @escaping @Sendable (SynthProgress) -> Void = { _ in }) throws(SynthError) -> SynthReport {
        if let problem = configuration.problem() { throw SynthError(problem) }
        let names = configuration.sequences.map(SemanticKITTIDataset.normalise)
        let fm = FileManager.default

        // The nearest existing ancestor of the output must be a writable directory.
        var existing = root.standardizedFileURL
        while !fm.fileExists(atPath: existing.path), existing.pathComponents.count > 1 { existing = existing.deletingLastPathComponent() }
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: existing.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw SynthError("cannot write to \(root.path): \(existing.path) is a file, not a directory")
        }
        if !fm.isWritableFile(atPath: existing.path) {
            throw SynthError("cannot write to \(root.path): \(existing.path) is not writable")
        }

        var directories: [URL] = []
        for name in names {
            let dir = SemanticKITTIDataset.sequenceDirectory(root: root, sequence: name)
            for url in [SemanticKITTIDataset.scanDirectory(sequence: dir), SemanticKITTIDataset.labelDirectory(sequence: dir),
                        SemanticKITTIDataset.subclassDirectory(sequence: dir)] {
                do { try fm.createDirectory(at: url, withIntermediateDirectories: true) } catch {
                    throw SynthError("cannot create directory \(url.path): \(error.localizedDescription)")
                }
            }
            directories.append(dir)
        }

        // Scenes and the text files of each sequence.
        let simulators = names.map {
            SequenceSimulator(seed: configuration.seed, sequence: $0, scans: configuration.scans, interval: configuration.interval,
                              sensor: configuration.sensor, staged: configuration.staged)
        }
        for (sim, dir) in zip(simulators, directories) {
            do {
                try sim.calibration.write(calib: dir.appendingPathComponent("calib.txt"))
                try writePoses(sim.poses, to: dir.appendingPathComponent("poses.txt"))
                try writeTimes(sim.times, to: dir.appendingPathComponent("times.txt"))
            } catch { throw SynthError("\(error)") }
        }

        // Scans, in parallel: each job's output depends on (seed, sequence, index) only.
        let scansPerSequence = configuration.scans
        let outputs = directories
        let histograms: [(classes: ClassHistogram, kinds: [Int])]
        do {
            histograms = try parallelMap(simulators.count * scansPerSequence, workers: configuration.workers) { job in
                let sim = simulators[job / scansPerSequence], dir = outputs[job / scansPerSequence]
                let index = job % scansPerSequence
                let (scan, labels, kinds) = sim.scanWithKinds(index)
                let stem = String(format: "%06d", index)
                try scan.write(bin: SemanticKITTIDataset.scanDirectory(sequence: dir).appendingPathComponent("\(stem).bin"))
                try labels.write(label: SemanticKITTIDataset.labelDirectory(sequence: dir).appendingPathComponent("\(stem).label"))
                try ScanLabels(raw: kinds).write(label: SemanticKITTIDataset.subclassDirectory(sequence: dir).appendingPathComponent("\(stem).label"))
                progress(SynthProgress(sequence: sim.name, index: index, points: scan.count))
                return (ClassHistogram(labels: labels.raw), SynthKind.counts(kinds))
            }
        } catch {
            throw SynthError("\(error)")
        }
        var histogram = ClassHistogram()
        for h in histograms { histogram.add(h.classes) }

        // Each sequence's kinds, with their shares of their class's points in that sequence.
        var catalogs: [SubclassCatalog] = []
        var overall = [Int](repeating: 0, count: SynthKind.idLimit)
        for (s, dir) in directories.enumerated() {
            var counts = [Int](repeating: 0, count: SynthKind.idLimit)
            for h in histograms[(s * scansPerSequence) ..< ((s + 1) * scansPerSequence)] {
                for (i, n) in h.kinds.enumerated() { counts[i] += n }
            }
            for (i, n) in counts.enumerated() { overall[i] += n }
            let catalog = SynthKind.catalog(counts: counts)
            do {
                try catalog.write(yaml: SubclassCatalog.file(sequence: dir), comment: SynthKind.catalogComment)
            } catch { throw SynthError("\(error)") }
            catalogs.append(catalog)
        }
        return SynthReport(histogram: histogram, scans: histograms.count, directories: directories, kinds: catalogs, allKinds: SynthKind.catalog(counts: overall))
    }
}
