import Foundation
import Testing
import TestSupport
import SemanticKITTI
@testable import Projection

@Suite struct ReprojectionTests {
    @Test func everyPointGetsItsPixelsClassIncludingHiddenOnes() {
        let scan = Scan(points: [SIMD4(10, 0, 0, 0), SIMD4(5, 0, 0, 0), SIMD4(0, 8, 0, 0), SIMD4(.nan, 0, 0, 0)])
        let image = SphericalProjection(ProjectionConfig(height: 4, width: 16)).project(scan)
        var classes = [Int32](repeating: 0, count: 4 * 16)
        classes[Int(image.pointRow[0]) * 16 + Int(image.pointColumn[0])] = 3
        classes[Int(image.pointRow[2]) * 16 + Int(image.pointColumn[2])] = 7
        #expect(image.pointClasses(fromPixels: classes) == [3, 3, 7, 0])
        #expect(image.pointClasses(fromPixels: classes, unplaced: -1) == [3, 3, 7, -1])
    }

    @Test func knnVotesAmongNeighboursCloseInRange() {
        // A 3 x 5 image, all points at 10 m except one at 20 m; the pixel classes are 1 except
        // the middle, predicted 2. The point at 10 m in the middle pixel has four neighbours
        // at 10 m voting 1; a far point is its own.
        var points: [SIMD4<Float>] = []
        let config = ProjectionConfig(height: 3, width: 5, fovUp: 10, fovDown: -10)
        var pixelOf: [Int] = []
        for row in 0 ..< 3 {
            for column in 0 ..< 5 {
                // The centre of pixel (row, column).
                let yaw = (Double(column) + 0.5) / 5 * 2 * .pi - .pi
                let pitch = (10 - (Double(row) + 0.5) / 3 * 20) * .pi / 180
                let r: Double = (row == 0 && column == 0) ? 20 : 10
                points.append(SIMD4(Float(r * cos(pitch) * cos(-yaw)), Float(r * cos(pitch) * sin(-yaw)), Float(r * sin(pitch)), 0))
                pixelOf.append(row * 5 + column)
            }
        }
        let image = SphericalProjection(config).project(Scan(points: points))
        #expect(zip(image.pointRow, image.pointColumn).map { Int($0) * 5 + Int($1) } == pixelOf)
        var classes = [Int32](repeating: 1, count: 15)
        classes[7] = 2
        let knn = RangeKNN(k: 5, window: 3, sigma: 1, cutoff: 1)
        let cleaned = knn.apply(to: image, pixelClasses: classes, classCount: 4)
        #expect(cleaned[7] == 1)           // outvoted by its neighbours
        #expect(cleaned.allSatisfy { $0 == 1 })
        // Class 0 never wins: with every pixel 0 but one, points keep voting for the non-zero class.
        var mostlyZero = [Int32](repeating: 0, count: 15)
        mostlyZero[6] = 3
        let votes = knn.apply(to: image, pixelClasses: mostlyZero, classCount: 4)
        #expect(votes[6] == 3 && votes[7] == 3)
        #expect(votes[14] == 0) // no non-zero neighbour in reach: keeps its pixel's class
    }

    @Test func knnRejectsBadSettings() {
        #expect(RangeKNN(k: 0).problem() != nil)
        #expect(RangeKNN(window: 4).problem() != nil)
        #expect(RangeKNN(k: 30, window: 5).problem() != nil)
        #expect(RangeKNN().problem() == nil)
    }

    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func knnRecoversHiddenPointsLabelsOnTheRealSample() throws {
        try SampleData.require()
        let config = try LabelConfig(yaml: SampleData.projectConfig)
        let scan = try Scan(bin: SampleData.scan(0))
        let labels = try ScanLabels(label: SampleData.labels(0), pointCount: scan.count)
        let truth = try config.lookup().learningIDs(of: labels)
        let image = SphericalProjection().project(scan)
        // The "prediction" is the true class of each pixel's nearest point.
        let pixelClasses = image.pixels(from: truth, empty: 0)
        let plain = image.pointClasses(fromPixels: pixelClasses)
        let knn = RangeKNN().apply(to: image, pixelClasses: pixelClasses, classCount: config.classCount)
        func accuracy(_ predicted: [Int32]) -> Double {
            let labelled = (0 ..< truth.count).filter { truth[$0] != 0 }
            return Double(labelled.filter { predicted[$0] == truth[$0] }.count) / Double(labelled.count)
        }
        // Every pixel's own point is right; hidden points may not be. k-NN must not do worse.
        #expect(accuracy(plain) > 0.9)
        #expect(accuracy(knn) >= accuracy(plain) - 0.005)
        #expect(!knn.contains { $0 < 0 || $0 >= config.classCount })
    }

    /// The C kernel gives the Swift definition's classes on every point of a real scan, with
    /// noisy pixel classes (many votes, ties, class 0 and cutoffs) and with blocks of one class
    /// (the kernel's shortcut for windows of one class, empty pixels aside), in both no-vote
    /// rules and for other windows and cutoffs.
    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func theKernelEqualsTheSwiftDefinition() throws {
        try SampleData.require()
        let image = SphericalProjection().project(try Scan(bin: SampleData.scan(1)))
        var state: UInt64 = 0x9E3779B97F4A7C15
        func random() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        let noisy: [Int32] = (0 ..< image.height * image.width).map { _ in Int32(truncatingIfNeeded: random() % 6) }
        // Blocks of one class, as a trained network predicts (the kernel settles points whose
        // whole window is one class without a search), with 3% of pixels changed at random.
        let blocky: [Int32] = (0 ..< image.height * image.width).map { p in
            let y = p / image.width, x = p % image.width
            return random() % 100 < 3 ? Int32(truncatingIfNeeded: random() % 6) : Int32((y / 9 * 7 + x / 37) % 6)
        }
        for (name, classes) in [("noisy", noisy), ("blocky", blocky)] {
            // An infinite cutoff lets empty pixels (infinitely far) vote, so the kernel's shortcut
            // may not skip them there.
            for (k, window, cutoff) in [(5, 5, Float(1)), (3, 3, 0), (9, 7, 0.5), (1, 3, 0.01), (5, 5, .infinity)] {
                for rule in [RangeKNN.NoVote.pixelClass, .firstClass] {
                    var knn = RangeKNN(k: k, window: window, sigma: 1, cutoff: cutoff)
                    knn.withoutVotes = rule
                    let fast = knn.apply(to: image, pixelClasses: classes, classCount: 5)
                    let reference = knn.applyReference(to: image, pixelClasses: classes, classCount: 5)
                    #expect(fast == reference, "\(name) classes, k \(k), window \(window), cutoff \(cutoff), \(rule): \(zip(fast, reference).filter { $0 != $1 }.count) differ")
                }
            }
        }
    }
}
