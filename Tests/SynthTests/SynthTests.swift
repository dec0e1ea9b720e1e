import Foundation
import Projection
import SemanticKITTI
@testable import Synth
import TestSupport
import Testing

/// A sparse sensor (fewer firings) keeps the debug-build tests fast; one test uses the full one.
private let sparse = SensorModel.hdl64e.withFirings(160)

private func files(under root: URL) -> [String: Data] {
    var out: [String: Data] = [:]
    let fm = FileManager.default
    guard let walker = fm.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else { return out }
    for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
        let relative = String(url.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count))
        out[relative] = try? Data(contentsOf: url)
    }
    return out
}

private func run(seed: UInt64, sequences: [String] = ["00", "8"], scans: Int = 2, workers: Int = 2) throws -> (URL, SynthReport) {
    let root = SampleData.temporaryDirectory("synth")
    let report = try Synthesizer.run(SynthConfiguration(seed: seed, sequences: sequences, scans: scans, sensor: sparse, workers: workers), root: root)
    return (root, report)
}

@Suite("Synth: determinism")
struct DeterminismTests {
    @Test("the same seed writes the same bytes, whatever the number of workers")
    func sameSeedSameBytes() throws {
        let (a, reportA) = try run(seed: 11, workers: 2)
        let (b, reportB) = try run(seed: 11, workers: 1)
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        let filesA = files(under: a), filesB = files(under: b)
        #expect(filesA.count == 2 * (4 + 2 * 3))  // per sequence: calib, poses, times, subclasses.yaml; per scan: scan, labels, kinds
        #expect(filesA.keys.sorted() == filesB.keys.sorted())
        for (name, data) in filesA { #expect(filesB[name] == data, "\(name) differs") }
        #expect(reportA.histogram == reportB.histogram)
    }

    @Test("a different seed writes different scenes")
    func differentSeed() throws {
        let first = SequenceSimulator(seed: 1, sequence: "00", scans: 1, sensor: sparse).scan(0)
        let second = SequenceSimulator(seed: 2, sequence: "00", scans: 1, sensor: sparse).scan(0)
        let other = SequenceSimulator(seed: 1, sequence: "01", scans: 1, sensor: sparse).scan(0)
        let differs = first.scan != second.scan, otherDiffers = first.scan != other.scan
        #expect(differs, "seeds 1 and 2 wrote the same scan")
        #expect(otherDiffers, "sequences 00 and 01 hold the same scan")
        // "8" and "08" name the same sequence.
        let same = SequenceSimulator(seed: 1, sequence: "8", scans: 1, sensor: sparse).scan(0).scan
            == SequenceSimulator(seed: 1, sequence: "08", scans: 1, sensor: sparse).scan(0).scan
        #expect(same)
    }

    @Test("a shorter run is a prefix of a longer one")
    func prefixStable() {
        let short = SequenceSimulator(seed: 5, sequence: "03", scans: 2, sensor: sparse)
        let long = SequenceSimulator(seed: 5, sequence: "03", scans: 40, sensor: sparse)
        for i in 0 ..< 2 {
            let a = short.scan(i), b = long.scan(i)
            let sameScan = a.scan == b.scan, sameLabels = a.labels == b.labels
            #expect(sameScan, "scan \(i) differs")
            #expect(sameLabels, "labels \(i) differ")
        }
        #expect(Array(long.poses.prefix(2)) == short.poses)
    }

    @Test("a longer interval drives the same street: scan i at 1 s is where scan 10 i is at 0.1 s")
    func interval() {
        let every = SequenceSimulator(seed: 5, sequence: "03", scans: 31, sensor: sparse)
        let spread = SequenceSimulator(seed: 5, sequence: "03", scans: 4, interval: 1, sensor: sparse)
        #expect(spread.times == [0, 1, 2, 3])
        for i in 0 ..< 4 {
            let a = spread.sensorPose(i).values, b = every.sensorPose(10 * i).values
            #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-9 }, "pose \(i)")
            // The same world: the same classes within a few per cent of the points (the
            // sensor's noise is drawn per scan index, so the points are not the same).
            let ha = ClassHistogram(labels: spread.scan(i).labels.raw), hb = ClassHistogram(labels: every.scan(10 * i).labels.raw)
            for id in [SynthClass.road, .building, .vegetation, .sidewalk].map(\.rawValue) {
                #expect(abs(ha.fraction(id) - hb.fraction(id)) < 0.03, "scan \(i), class \(id)")
            }
        }
        // The sensor moved on by metres between the spread scans.
        let moved = spread.sensorPose(1).values[3]
        #expect(moved > 3 && moved < 13, "\(moved) m in one second")
    }
}

@Suite("Synth: SemanticKITTI format")
struct FormatTests {
    @Test("a run reads back through Sequence, Scan and ScanLabels")
    func readsBack() throws {
        let (root, report) = try run(seed: 3, scans: 3)
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(report.scans == 6)
        var points = 0
        for name in ["00", "08"] {
            let sequence = try Sequence(directory: SemanticKITTIDataset.sequenceDirectory(root: root, sequence: name))
            #expect(sequence.frames.map(\.id) == ["000000", "000001", "000002"])
            #expect(sequence.calibration == KITTICalibration.sequences00to02)
            #expect(sequence.times == [0, 0.1, 0.2])
            let poses = try #require(sequence.poses)
            #expect(poses.count == 3)
            for (a, b) in zip(poses[0].values, Matrix3x4.identity.values) { #expect(abs(a - b) < 1e-9) }
            for frame in sequence.frames {
                let scan = try Scan(bin: frame.scan, validation: .strict)
                let labels = try ScanLabels(label: #require(frame.labels), pointCount: scan.count)
                #expect(scan.count > 0)
                points += labels.count
            }
        }
        #expect(points == report.points)
        // The KITTI text formats: 12 numbers per pose line, P0-P3 and Tr in calib.txt.
        let dir = SemanticKITTIDataset.sequenceDirectory(root: root, sequence: "00")
        let poseLines = try String(contentsOf: dir.appendingPathComponent("poses.txt"), encoding: .utf8).split(separator: "\n")
        #expect(poseLines.count == 3 && poseLines.allSatisfy { $0.split(separator: " ").count == 12 })
        let calib = try String(contentsOf: dir.appendingPathComponent("calib.txt"), encoding: .utf8)
        #expect(calib.split(separator: "\n").map { $0.prefix(3) } == ["P0:", "P1:", "P2:", "P3:", "Tr:"])
    }

    @Test("a full-size scan looks like an HDL-64E scan and projects")
    func fullScan() throws {
        let sim = SequenceSimulator(seed: 7, sequence: "00", scans: 1)
        let (scan, labels) = sim.scan(0)
        #expect((100_000 ... 130_000).contains(scan.count), "\(scan.count) points")
        #expect(labels.count == scan.count)
        #expect(scan.invalidPoints().isEmpty)
        let sensor = SensorModel.hdl64e
        var ranges: (Float, Float) = (.infinity, 0)
        for i in 0 ..< scan.count {
            let p = scan[point: i]
            let r = (p.x * p.x + p.y * p.y + p.z * p.z).squareRoot()
            ranges = (min(ranges.0, r), max(ranges.1, r))
            #expect(p.w >= 0 && p.w < 1)
            let elevation = Double(asin(p.z / r)) * 180 / .pi
            #expect(elevation > sensor.elevations.last! - 0.01 && elevation < sensor.elevations.first! + 0.01)
        }
        #expect(ranges.0 >= Float(sensor.minRange) && ranges.1 < Float(sensor.maxRange))
        #expect(ranges.1 > 40, "the farthest return is only \(ranges.1) m")

        let image = SphericalProjection().project(scan)
        #expect(image.skippedPoints.isEmpty)
        let filled = Double(image.filledPixels) / Double(64 * 2048)
        #expect(filled > 0.75, "only \(filled) of the range image is filled")
    }

    @Test("labels are official raw ids; things carry instance ids, stuff does not")
    func labelIDs() throws {
        let config = try LabelConfig(yaml: SampleData.projectConfig)
        let sim = SequenceSimulator(seed: 4, sequence: "00", scans: 10, sensor: sparse)
        var seenThings = Set<UInt32>()
        for i in stride(from: 0, to: 10, by: 3) {
            let labels = sim.scan(i).labels
            for raw in Set(labels.raw) {
                let semantic = Int(raw & 0xFFFF), instance = raw >> 16
                #expect(config.learningMap[semantic] != nil, "raw id \(semantic) is not in learning_map")
                let cls = try #require(SynthClass(rawValue: UInt16(semantic)))
                #expect(cls.isThing == (instance != 0), "\(cls.name) with instance \(instance)")
                if cls.isThing { seenThings.insert(raw) }
            }
        }
        #expect(!seenThings.isEmpty)
    }

    @Test("poses follow KITTI: Tr^-1 * pose * Tr maps each scan's road onto scan 0's road plane")
    func poses() throws {
        let sim = SequenceSimulator(seed: 9, sequence: "00", scans: 12, sensor: sparse)
        let tr = sim.calibration.velodyneToCamera
        let poses = sim.poses
        var previous = SIMD3<Double>(0, 0, 0)
        for i in [0, 5, 11] {
            let velodyne = tr.affineInverseForTests().composed(with: poses[i]).composed(with: tr)
            for (a, b) in zip(velodyne.values, sim.sensorPose(i).values) { #expect(abs(a - b) < 1e-6) }
            let (scan, labels) = sim.scan(i)
            var heights: [Double] = []
            for j in 0 ..< scan.count where labels.semantic(j) == SynthClass.road.rawValue {
                let p = scan[point: j]
                heights.append(velodyne.apply(SIMD3(Double(p.x), Double(p.y), Double(p.z))).z)
            }
            #expect(heights.count > 100)
            let mean = heights.reduce(0, +) / Double(heights.count)
            #expect(abs(mean + sim.sensor.mountHeight) < 0.02, "road at z = \(mean) in scan 0's frame")
            let position = velodyne.apply(SIMD3(0, 0, 0))
            if i > 0 {
                let speed = (position.x - previous.x) / (Double(i == 5 ? 5 : 6) * 0.1)
                #expect(speed > 3 && speed < 13, "the sensor drives forward at \(speed) m/s")
            }
            previous = position
        }
    }
}

@Suite("Synth: scenes")
struct SceneTests {
    @Test("the class histogram of a sequence shows the real imbalance")
    func imbalance() throws {
        var histogram = ClassHistogram()
        for name in ["00", "01"] {
            let sim = SequenceSimulator(seed: 7, sequence: name, scans: 40, sensor: SensorModel.hdl64e.withFirings(100))
            for i in stride(from: 0, to: 40, by: 2) { histogram.add(ClassHistogram(labels: sim.scan(i).labels.raw)) }
        }
        func percent(_ c: SynthClass) -> Double { histogram.fraction(c.rawValue) * 100 }
        let dominant = percent(.road) + percent(.vegetation) + percent(.building) + percent(.sidewalk)
        #expect(dominant > 55, "road+vegetation+building+sidewalk only \(dominant)%")
        #expect(percent(.road) > 10 && percent(.vegetation) > 8)
        for rare in [SynthClass.person, .bicyclist, .trafficSign] {
            #expect(percent(rare) > 0 && percent(rare) < 1, "\(rare.name): \(percent(rare))%")
        }
        #expect(percent(.car) + percent(.movingCar) > 0.5)
        let yaml = histogram.contentYAML()
        #expect(yaml.hasPrefix("content:"))
        // The content block drops into a label config.
        var config = try LabelConfig(yaml: SampleData.projectConfig)
        config.content = histogram.content(allIDs: Array(config.names.keys))
        let reread = try LabelConfig(yamlText: config.yamlText())
        #expect(abs((reread.content[40] ?? 0) - histogram.fraction(40)) < 1e-9)
    }

    @Test("bad configurations are refused with a reason")
    func errors() throws {
        #expect(SynthConfiguration(seed: 0, sequences: ["00"], scans: 0).problem() != nil)
        #expect(SynthConfiguration(seed: 0, sequences: [], scans: 1).problem() != nil)
        #expect(SynthConfiguration(seed: 0, sequences: ["00", "0"], scans: 1).problem() != nil)
        #expect(SynthConfiguration(seed: 0, sequences: ["00"], scans: 1, interval: 0.05).problem()?.contains("--interval") == true)
        #expect(SynthConfiguration(seed: 0, sequences: ["00"], scans: 1, interval: .nan).problem()?.contains("--interval") == true)
        #expect(SynthConfiguration(seed: 0, sequences: ["00"], scans: 1, interval: 61).problem()?.contains("--interval") == true)
        #expect(SynthConfiguration(seed: 0, sequences: ["00"], scans: 1, interval: 1).problem() == nil)
        // An output "directory" that is a file cannot hold sequences.
        let file = SampleData.temporaryDirectory("synth-bad").appendingPathComponent("file")
        try Data("x".utf8).write(to: file)
        #expect {
            try Synthesizer.run(SynthConfiguration(seed: 0, sequences: ["00"], scans: 1, sensor: sparse), root: file)
        } throws: { error in
            "\(error)".contains("is a file, not a directory")
        }
    }
}

extension Matrix3x4 {
    /// A general affine inverse, written independently of the library's.
    func affineInverseForTests() -> Matrix3x4 {
        let m = values
        let a = m[0], b = m[1], c = m[2], d = m[4], e = m[5], f = m[6], g = m[8], h = m[9], i = m[10]
        let det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
        let r = [(e * i - f * h), (c * h - b * i), (b * f - c * e),
                 (f * g - d * i), (a * i - c * g), (c * d - a * f),
                 (d * h - e * g), (b * g - a * h), (a * e - b * d)].map { $0 / det }
        let t = (m[3], m[7], m[11])
        var out: [Double] = []
        for row in 0 ..< 3 {
            out += [r[row * 3], r[row * 3 + 1], r[row * 3 + 2], -(r[row * 3] * t.0 + r[row * 3 + 1] * t.1 + r[row * 3 + 2] * t.2)]
        }
        return Matrix3x4(out)
    }
}

@Suite("Synth: remission as real scans read it")
struct RemissionTests {
    /// Every point of scans of several streets 2 s apart: its class, range and remission.
    private let points: [(label: UInt16, range: Float, remission: Float)] = {
        var out: [(label: UInt16, range: Float, remission: Float)] = []
        for name in ["00", "01", "02"] {
            let sim = SequenceSimulator(seed: 7, sequence: name, scans: 3, interval: 2, sensor: SensorModel.hdl64e.withFirings(500))
            for i in 0 ..< sim.scans {
                let (scan, labels) = sim.scan(i)
                for j in 0 ..< scan.count {
                    let p = scan[point: j]
                    out.append((labels.semantic(j), (p.x * p.x + p.y * p.y + p.z * p.z).squareRoot(), p.w))
                }
            }
        }
        return out
    }()

    /// Remission of the points of `classes` between `near` and `far` metres.
    private func remissions(_ classes: [SynthClass], _ near: Double, _ far: Double) -> [Float] {
        let ids = Set(classes.map(\.rawValue))
        return points.filter { ids.contains($0.label) && Double($0.range) >= near && Double($0.range) < far }.map(\.remission)
    }

    private func median(_ values: [Float]) -> Float { values.sorted()[values.count / 2] }

    // The targets are the medians of the labelled scans of the real sample (sequence 00,
    // scans 0-2; docs/synthetic-data.md): road 0.27, sidewalk 0.32, terrain 0.37 within 20 m;
    // vegetation and building at 35-45 m about half their value within 20 m.
    @Test("near ground reads as in real scans, far surfaces fade, and nothing reads between 0 and the floor")
    func calibrated() {
        for (cls, target) in [(SynthClass.road, Float(0.27)), (.sidewalk, 0.32), (.terrain, 0.37)] {
            let values = remissions([cls], 3, 20)
            #expect(values.count > 500, "\(cls.name): \(values.count) points")
            #expect(abs(median(values) - target) < 0.04, "\(cls.name): median \(median(values)), real scans \(target)")
        }
        // Rough paving keeps its remission where the ray grazes the ground; smooth road does not
        // (real scans at 20-30 m: sidewalk 0.84 of its near value, road 0.65).
        let sidewalkKeeps = median(remissions([.sidewalk], 20, 30)) / median(remissions([.sidewalk], 3, 20))
        let roadKeeps = median(remissions([.road], 20, 30)) / median(remissions([.road], 3, 20))
        #expect(sidewalkKeeps > roadKeeps + 0.08, "sidewalk keeps \(sidewalkKeeps), road \(roadKeeps) of its near remission at 20-30 m")
        let upright = [SynthClass.vegetation, .building]
        let near = median(remissions(upright, 3, 20)), far = median(remissions(upright, 35, 45))
        #expect(far / near > 0.3 && far / near < 0.75, "vegetation and building fade to \(far / near) of their near remission")
        let all = remissions(SynthClass.allCases, 0, 100)
        #expect(!all.contains { $0 > 0 && Double($0) < RayCaster.remissionFloor - 0.005 }, "a remission between 0 and the floor")
        let zeros = Double(all.filter { $0 == 0 }.count) / Double(all.count)
        #expect(zeros > 0.005 && zeros < 0.2, "\(zeros * 100)% of the points read 0")
        // Dark paint and glass: real cars read 0 in 45% of their points.
        let cars = remissions([.car, .movingCar], 0, 100)
        let darkCars = Double(cars.filter { $0 == 0 }.count) / Double(cars.count)
        #expect(cars.count > 300 && darkCars > 0.25 && darkCars < 0.6, "\(cars.count) car points, \(darkCars * 100)% read 0")
    }
}
