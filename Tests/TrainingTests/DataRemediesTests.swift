import Foundation
import Formats
import Projection
import Random
import SemanticKITTI
import Testing
import TestSupport
@testable import Inference
@testable import Training

/// Rare-instance paste and PolarMix-style mixing (`augmentation.paste`, `augmentation.mix`):
/// labels move with their points, occlusion, determinism, exact resume.
@Suite(.serialized) struct DataRemediesTests {
    /// Each point's bit pattern, for looking points up exactly.
    func key(_ scan: Scan, _ i: Int) -> SIMD4<UInt32> {
        SIMD4(scan.values[4 * i].bitPattern, scan.values[4 * i + 1].bitPattern, scan.values[4 * i + 2].bitPattern, scan.values[4 * i + 3].bitPattern)
    }

    func labelsByPoint(_ scan: Scan, _ labels: [Int32]) -> [SIMD4<UInt32>: Int32] {
        Dictionary((0 ..< scan.count).map { (key(scan, $0), labels[$0]) }, uniquingKeysWith: { a, _ in a })
    }

    /// A wall 20 m ahead, 41 x 9 points (label 9).
    let wall = Scan(points: (0 ..< 41 * 9).map { SIMD4(20, Float($0 % 41) * 0.1 - 2, Float($0 / 41) * 0.1 - 0.4, 0.3) })

    @Test func pastedObjectsHideWhatIsBehindThemAndAreHiddenByWhatIsInFront() {
        let paste = InstancePaste(projector: SphericalProjection(ProjectionConfig()))
        let labels = [Int32](repeating: 9, count: wall.count)
        // The same directions at half the range: every wall point is behind a pasted point.
        let front = wall.values.enumerated().map { $0.offset % 4 == 3 ? 0.7 : $0.element * 0.5 }
        let (hidden, hiddenLabels) = paste.paste([(front, 2)], into: wall, labels: labels)
        #expect(hidden.count == wall.count && hiddenLabels.allSatisfy { $0 == 2 })
        #expect(hidden.values == front)
        // At twice the range the wall hides the object entirely.
        let behind = wall.values.enumerated().map { $0.offset % 4 == 3 ? 0.7 : $0.element * 2 }
        let (unchanged, unchangedLabels) = paste.paste([(behind, 2)], into: wall, labels: labels)
        #expect(unchanged == wall && unchangedLabels == labels)
        // An object in front of the left half only: the right half of the wall stays.
        let left = Array(front.enumerated().filter { $0.offset / 4 % 41 < 20 }.map(\.element))
        let (half, halfLabels) = paste.paste([(left, 2)], into: wall, labels: labels)
        #expect(half.count == halfLabels.count)
        let table = labelsByPoint(half, halfLabels)
        for i in 0 ..< wall.count {
            let inFront = i % 41 < 20
            #expect((table[key(wall, i)] != nil) == !inFront, "wall point \(i)")
        }
        #expect(halfLabels.filter { $0 == 2 }.count == left.count / 4)
    }

    @Test func aSectorSwapTakesTheOtherScansPointsAndLabelsThere() {
        let ring = Scan(points: (0 ..< 360).map { d in
            let a = (Float(d) + 0.5) / 180 * .pi
            return SIMD4(10 * cosf(a), 10 * sinf(a), -1, 0.1)
        })
        let other = Scan(values: ring.values.enumerated().map { $0.offset % 4 == 3 ? 0.9 : $0.element * 2 })
        let labels = [Int32](repeating: 1, count: 360), otherLabels = [Int32](repeating: 5, count: 360)
        // From 350 degrees, 90 wide: 350 ..< 360 and 0 ..< 80 (wrapping).
        let start: Float = 350 / 180 * .pi, width: Float = .pi / 2
        let (mixed, mixedLabels) = SceneMix.swapSector(ring, labels: labels, with: other, otherLabels: otherLabels, start: start, width: width)
        #expect(mixed.count == 360 && mixedLabels.count == 360)
        for i in 0 ..< mixed.count {
            let p = mixed[point: i]
            let fromOther = p.w == 0.9
            #expect(mixedLabels[i] == (fromOther ? 5 : 1))
            #expect(SceneMix.inSector(x: p.x, y: p.y, start: start, width: width) == fromOther)
        }
        #expect(mixedLabels.filter { $0 == 5 }.count == 90)
    }

    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func rareClassesComeFromContentOrNames() throws {
        try SampleData.require()
        let labels = try LabelConfig(yaml: SampleData.projectConfig)
        let name = { (id: Int32) in labels.className(learning: Int(id)) }
        var augmentation = TrainingConfig.Augmentation()
        let rare = Set(try RareClasses.resolve(augmentation, labels: labels).map(name))
        #expect(rare.isSuperset(of: ["bicycle", "motorcyclist", "person", "truck"]))
        #expect(rare.isDisjoint(with: ["car", "road", "vegetation", "building", "unlabeled"]))
        augmentation.rareClasses = ["car", "person"]
        #expect(Set(try RareClasses.resolve(augmentation, labels: labels).map(name)) == ["car", "person"])
        augmentation.rareClasses = ["cars"]
        let error = #expect(throws: FormatError.self) { try RareClasses.resolve(augmentation, labels: labels) }
        #expect(error?.reason.hasPrefix("'cars' is not a class") == true)
    }

    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func theBankIsDeterministicAndKeepsToItsBudget() throws {
        try SampleData.require()
        let labels = try LabelConfig(yaml: SampleData.projectConfig)
        let dataset = try SemanticKITTIDataset(root: SampleData.root)
        let frames = try dataset.labelledFrames(sequences: ["00"])
        let car: Set<Int32> = [1]
        let one = try InstanceBank(frames: frames, dataset: dataset, lookup: labels.lookup(), classes: car, pointBudget: 1_000_000, seed: 5, workers: 1)
        let three = try InstanceBank(frames: frames, dataset: dataset, lookup: labels.lookup(), classes: car, pointBudget: 1_000_000, seed: 5, workers: 3)
        #expect(one.instances == three.instances)
        // The sample's cars of at least 16 points: 11 or 12 per scan (instances 208 ... 219, 504).
        #expect(one.instances.count > 30 && one.instances.allSatisfy { $0.learningID == 1 && $0.count >= InstanceBank.minimumPoints })
        #expect(Set(one.instances.map(\.frame)) == [0, 1, 2])
        let small = try InstanceBank(frames: frames, dataset: dataset, lookup: labels.lookup(), classes: car, pointBudget: 2000, seed: 5)
        #expect(small.pointCount <= 2000 && small.pointCount > 1000)
        // The motorcyclist (class 8) of every scan is the only rare instance of the sample.
        let rare = try InstanceBank(frames: frames, dataset: dataset, lookup: labels.lookup(),
                                    classes: try RareClasses.resolve(.init(), labels: labels), pointBudget: 1_000_000, seed: 5)
        #expect(rare.instances.count == 3 && rare.instances.allSatisfy { $0.learningID == 8 })
    }

    /// Remedies over the sample's three scans, with `configure`'s settings.
    func remedies(_ configure: (inout TrainingConfig.Augmentation) -> Void) throws -> DataRemedies {
        let labels = try LabelConfig(yaml: SampleData.projectConfig)
        let dataset = try SemanticKITTIDataset(root: SampleData.root)
        var augmentation = TrainingConfig.Augmentation.none
        configure(&augmentation)
        return try DataRemedies(augmentation: augmentation, frames: try dataset.labelledFrames(sequences: ["00"]), dataset: dataset,
                                labels: labels, sensor: ProjectionConfig(), seed: 5)
    }

    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func pastedInstancesCarryTheirClassAndTheSameSeedPastesTheSame() throws {
        try SampleData.require()
        let remedies = try remedies { $0.paste = 4; $0.rareClasses = ["car"] }
        let (original, originalLabels) = try remedies.read(0)
        let before = labelsByPoint(original, originalLabels)
        var g = RandomGenerator(seed: 11)
        let (scan, labels) = try remedies.remedied(0, generator: &g)
        #expect(scan.count == labels.count)
        let new = (0 ..< scan.count).filter { before[key(scan, $0)] == nil }
        #expect(new.count > 50, "nothing pasted")
        #expect(new.allSatisfy { labels[$0] == 1 }, "a pasted point that is not a car")
        // The scan's own points keep their labels; some were hidden by the pasted cars.
        #expect((0 ..< scan.count).allSatisfy { i in before[key(scan, i)].map { $0 == labels[i] } ?? true })
        #expect(scan.count - new.count < original.count)
        var h = RandomGenerator(seed: 11)
        let again = try remedies.remedied(0, generator: &h)
        #expect(again.scan == scan && again.labels == labels)
        var other = RandomGenerator(seed: 12)
        #expect(try remedies.remedied(0, generator: &other).scan != scan)
    }

    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func aMixTakesASectorOfAnotherScanAndRotatedCopiesOfItsRareInstances() throws {
        try SampleData.require()
        // (The motorcyclist is 25 m down the street: most turned copies land behind buildings and are
        // hidden, so eight copies, of which those along the street stay.)
        let remedies = try remedies { $0.mix = 1; $0.mixSector = 120; $0.mixCopies = 8 }
        let scans = try (0 ..< 3).map { try remedies.read($0) }
        let tables = scans.map { labelsByPoint($0.0, $0.1) }
        var g = RandomGenerator(seed: 21)
        let (scan, labels) = try remedies.remedied(1, generator: &g)
        // Every point is the scan's own, the other scan's (with its label), or a rotated copy of a
        // motorcyclist (class 8), the sample's one rare instance.
        var own = 0, other = 0, copies = 0
        for i in 0 ..< scan.count {
            if let label = tables[1][key(scan, i)] {
                own += 1
                #expect(label == labels[i])
            } else if let label = tables[0][key(scan, i)] ?? tables[2][key(scan, i)] {
                other += 1
                #expect(label == labels[i])
            } else {
                copies += 1
                #expect(labels[i] == 8)
            }
        }
        #expect(other > 10_000 && own > 50_000 && copies > 20, "own \(own), other \(other), copies \(copies)")
        var sensor = ProjectionConfig()
        sensor.width = 512
        let builder = SampleBuilder(sensor: sensor, lookup: remedies.lookup)
        var h = RandomGenerator(seed: 21)
        let sample = try remedies.load(1, builder: builder, generator: &h)
        var k = RandomGenerator(seed: 21)
        let again = try remedies.load(1, builder: builder, generator: &k)
        #expect(sample.input == again.input && sample.target == again.target)
    }

    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func trainingWithPasteAndMixResumesBitExactly() throws {
        try SampleData.require()
        let labels = try LabelConfig(yaml: SampleData.projectConfig)
        var config = try smallConfig(epochs: 2, loss: "ce")
        config.augmentation.paste = 2
        config.augmentation.rareClasses = ["car", "motorcyclist"]
        config.augmentation.mix = 0.7
        config.preciseBatchNormScans = 0
        let straight = SampleData.temporaryDirectory("remedies-straight"), resumed = SampleData.temporaryDirectory("remedies-resumed")
        let dataset = try SemanticKITTIDataset(root: SampleData.root)
        let trainer = try Trainer(config: config, labels: labels, dataset: dataset, run: straight)
        #expect(trainer.remedies?.bank?.instances.isEmpty == false)
        let summary = try #require(trainer.remedies?.summary(labels: labels))
        #expect(summary.hasPrefix("paste 2 instances per scan from a bank of ") && summary.contains("car ")
                && summary.contains("mix 70% of the scans") && summary.hasSuffix("rare classes: car, motorcyclist"), "\(summary)")
        try trainer.train()
        var first = config
        first.epochs = 1
        try Trainer(config: first, labels: labels, dataset: dataset, run: resumed).train()
        try Trainer(config: config, labels: labels, dataset: dataset, run: resumed).train(resume: true)
        #expect(try Data(contentsOf: RunDirectory(straight).last) == Data(contentsOf: RunDirectory(resumed).last),
                "resumed weights differ from an uninterrupted run")
        #expect(try String(contentsOf: RunDirectory(straight).steps, encoding: .utf8) == String(contentsOf: RunDirectory(resumed).steps, encoding: .utf8))
        // The batches trained on are remedied: the loader's samples differ from plain ones.
        let loader = BatchLoader(builder: trainer.builder, dataset: dataset, frames: trainer.trainFrames, augmentation: config.augmentation,
                                 remedies: trainer.remedies, seed: config.seed, epoch: 0)
        let plain = BatchLoader(builder: trainer.builder, dataset: dataset, frames: trainer.trainFrames, augmentation: config.augmentation,
                                remedies: nil, seed: config.seed, epoch: 0)
        let remedied = try loader.start([0, 1, 2]).wait(), unremedied = try plain.start([0, 1, 2]).wait()
        #expect(zip(remedied, unremedied).allSatisfy { $0.target != $1.target })
    }
}
