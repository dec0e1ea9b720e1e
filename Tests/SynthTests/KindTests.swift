import Foundation
import SemanticKITTI
@testable import Synth
import TestSupport
import Testing

/// A sparse sensor (fewer firings) keeps the debug-build tests fast.
private let sparse = SensorModel.hdl64e.withFirings(160)

@Suite("Synth: kinds of appearance")
struct KindTests {
    @Test("each point's kind is written beside its label, belongs to the point's class, and far kinds are far")
    func kindsBesideLabels() throws {
        let root = SampleData.temporaryDirectory("synth-kinds")
        let report = try Synthesizer.run(SynthConfiguration(seed: 5, sequences: ["00"], scans: 3, sensor: sparse), root: root)
        let dir = report.directories[0]
        let catalog = try SubclassCatalog(yaml: SubclassCatalog.file(sequence: dir))
        #expect(catalog == report.kinds[0])
        #expect(catalog.kinds.map(\.id) == SynthKind.allCases.map { UInt32($0.rawValue) })
        let withKinds = Set(SynthKind.allCases.flatMap(\.rawClasses))
        var seen = Set<SynthKind>()
        for i in 0 ..< 3 {
            let stem = String(format: "%06d", i)
            let scan = try Scan(bin: SemanticKITTIDataset.scanDirectory(sequence: dir).appendingPathComponent("\(stem).bin"))
            let labels = try ScanLabels(label: SemanticKITTIDataset.labelDirectory(sequence: dir).appendingPathComponent("\(stem).label"), pointCount: scan.count)
            let kinds = try ScanLabels(label: SemanticKITTIDataset.subclassDirectory(sequence: dir).appendingPathComponent("\(stem).label"), pointCount: scan.count).raw
            for j in 0 ..< scan.count {
                let semantic = labels.semantic(j)
                guard kinds[j] != 0 else {
                    #expect(!withKinds.contains(semantic), "a point of \(semantic) has no kind")
                    continue
                }
                let kind = try #require(SynthKind(rawValue: UInt16(kinds[j])), "kind id \(kinds[j])")
                #expect(kind.rawClasses.contains(semantic), "\(kind.name) on a point of class \(semantic)")
                let v = scan.values[(4 * j) ..< (4 * j + 3)].map(Double.init)
                let range = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).squareRoot()
                if kind == .farCar || kind == .farPerson {
                    #expect(range > SynthKind.farRange - 0.5, "\(kind.name) at \(range) m")
                } else if kind.synthClass == .car || kind.synthClass == .person {
                    #expect(range <= SynthKind.farRange + 0.5, "\(kind.name) at \(range) m")
                }
                seen.insert(kind)
            }
        }
        #expect(seen.count >= 12, "only \(seen.map(\.name).sorted()) seen")
        // Shares: per class with points, the kinds' shares sum to 1.
        for cls in Set(SynthKind.allCases.map(\.synthClass)) {
            let shares = catalog.kinds.filter { $0.rawClass == UInt32(cls.rawValue) }.map(\.share)
            let sum = shares.reduce(0, +)
            #expect(sum == 0 || abs(sum - 1) < 1e-3, "\(cls.name): shares sum to \(sum)")
        }
    }

    /// The (seed, sequence) pairs of `tools/demo.sh` and `tools/study.sh`, and two others.
    static let validationSequences: [(UInt64, String)] = [(8, "08"), (11, "08"), (0, "08"), (1, "05")]

    @Test("staged validation sequences hold >= 2,000 points of each of the 19 classes and >= 300 of each kind in 10 scans",
          arguments: validationSequences)
    func stagedCounts(seed: UInt64, sequence: String) throws {
        let config = try LabelConfig(yaml: SampleData.projectConfig)
        let lookup = config.lookup()
        let sim = SequenceSimulator(seed: seed, sequence: sequence, scans: 10, staged: true)
        var classes = [Int](repeating: 0, count: config.classCount)
        var kinds: [SynthKind: Int] = [:]
        for i in 0 ..< 10 {
            let (_, labels, pointKinds) = sim.scanWithKinds(i)
            for j in 0 ..< labels.count {
                if let learning = lookup.learning(raw: labels.semantic(j)) { classes[Int(learning)] += 1 }
                if let kind = SynthKind(rawValue: UInt16(pointKinds[j])) { kinds[kind, default: 0] += 1 }
            }
        }
        for c in 1 ..< config.classCount {
            #expect(classes[c] >= 2000, "\(config.className(learning: c)): \(classes[c]) points")
        }
        for kind in SynthKind.allCases {
            #expect(kinds[kind, default: 0] >= 300, "\(kind.name): \(kinds[kind, default: 0]) points")
        }
    }

    @Test("staging changes only the exhibits' stretches: elsewhere the world is the same primitive for primitive")
    func stagingIsLocal() {
        let plain = SceneGenerator.generate(seed: 77, duration: 40)
        let staged = SceneGenerator.generate(seed: 77, duration: 40, staged: true)
        // Exhibits every 160 m from x = 0, each clearing at most 48 m behind and 62 m ahead.
        func outside(_ p: Primitive) -> Bool {
            let x = p.cx.truncatingRemainder(dividingBy: 160)
            let offset = x < 0 ? x + 160 : x
            return offset > 70 && offset < 105
        }
        func key(_ p: Primitive) -> [Double] { [p.cx, p.cy, p.cz, p.hx, p.hy, p.hz, Double(p.material.label)] }
        let a = plain.statics.filter(outside).map(key), b = staged.statics.filter(outside).map(key)
        #expect(a.count > 100)
        #expect(a == b)
        #expect(plain.movers.count == staged.movers.count)
        #expect(staged.statics.count != plain.statics.count)
    }
}
