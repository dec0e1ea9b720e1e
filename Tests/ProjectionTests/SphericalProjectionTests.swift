import Foundation
import Testing
import TestSupport
import Formats
import SemanticKITTI
@testable import Projection

/// Row and column of a point by the formulas, in float32 with the C library's atan2f/asinf,
/// step by step as the NumPy reference computes them; written independently of the kernel.
func referencePixel(_ x: Float, _ y: Float, _ z: Float, _ config: ProjectionConfig) -> (row: Int, column: Int) {
    let fovUp = Double(config.fovUp) / 180 * .pi, fovDown = Double(config.fovDown) / 180 * .pi
    let fov = Float(abs(fovDown) + abs(fovUp))
    let depth = (x * x + y * y + z * z).squareRoot()
    let yaw = -atan2f(y, x)
    let pitch = asinf(z / depth)
    var u = 0.5 * (yaw / Float(Double.pi) + 1)
    var v = 1 - (pitch + Float(abs(fovDown))) / fov
    u *= Float(config.width)
    v *= Float(config.height)
    let column = max(0, min(config.width - 1, Int(u.rounded(.down))))
    let row = max(0, min(config.height - 1, Int(v.rounded(.down))))
    return (row, column)
}

@Suite struct SphericalProjectionTests {
    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func agreesWithTheFormulasOnRealScans() throws {
        try SampleData.require()
        for frame in [0, 3] {
            let scan = try Scan(bin: SampleData.scan(frame))
            let config = ProjectionConfig()
            let image = SphericalProjection(config).project(scan)
            var same = 0, offByOne = 0
            for i in 0 ..< scan.count {
                let p = scan[point: i]
                let (row, column) = referencePixel(p.x, p.y, p.z, config)
                let dr = abs(row - Int(image.pointRow[i])), dc = abs(column - Int(image.pointColumn[i]))
                if dr == 0, dc == 0 { same += 1 } else if dr + dc == 1 || (dc == config.width - 1 && dr == 0) { offByOne += 1 }
            }
            // Only points within a rounding error of a pixel border may differ, by one pixel.
            #expect(same + offByOne == scan.count)
            #expect(Double(same) / Double(scan.count) > 0.9999, "frame \(frame): \(scan.count - same) points differ")
            #expect(image.skippedPoints.isEmpty)
        }
    }

    @Test(.enabled(if: SampleData.shouldRun && Python.shouldRun, Comment(rawValue: SampleData.skipReason + "; " + Python.skipReason)))
    func matchesTheNumPyReference() throws {
        try SampleData.require()
        try Python.require()
        let dir = SampleData.temporaryDirectory("numpy-ref")
        let script = SampleData.packageRoot.appendingPathComponent("tools/reference_projection.py").path
        for (frame, config) in [(0, ProjectionConfig()), (2, ProjectionConfig(height: 32, width: 1024, fovUp: 2, fovDown: -24))] {
            let out = dir.appendingPathComponent("ref\(frame).npz")
            _ = try Python.run([script, "project", SampleData.scan(frame).path, out.path,
                                "\(config.height)", "\(config.width)", "\(config.fovUp)", "\(config.fovDown)"])
            let reference = try NumPyArchive(npz: out)
            let image = SphericalProjection(config).project(try Scan(bin: SampleData.scan(frame)))
            let refX = try #require(reference["proj_x"]).integers(), refY = try #require(reference["proj_y"]).integers()
            let agree = (0 ..< image.pointCount).filter { refX[$0] == Int(image.pointColumn[$0]) && refY[$0] == Int(image.pointRow[$0]) }.count
            #expect(Double(agree) / Double(image.pointCount) > 0.9999, "\(image.pointCount - agree) of \(image.pointCount) points in another pixel")
            let refRange = try #require(reference["proj_range"]).floats()
            let sameRange = zip(refRange, image.range).filter { $0 == $1 }.count
            #expect(Double(sameRange) / Double(refRange.count) > 0.999)
            let refMask = try #require(reference["proj_mask"]).integers()
            #expect(refMask.filter { $0 != 0 }.count == image.filledPixels || abs(refMask.filter { $0 != 0 }.count - image.filledPixels) < 5)
            let refUnproj = try #require(reference["unproj_range"]).floats()
            #expect(zip(refUnproj, image.pointRange).allSatisfy { abs($0 - $1) <= 1e-5 * $0 })
        }
    }

    @Test func nearestPointWinsAndPointZeroIsMasked() {
        // Three points straight ahead (same pixel) at 10 m, 5 m and 7 m, and one behind.
        let scan = Scan(points: [SIMD4(10, 0, 0, 0.1), SIMD4(5, 0, 0, 0.2), SIMD4(7, 0, 0, 0.3), SIMD4(-3, 0.01, 0, 0.4)])
        let image = SphericalProjection(ProjectionConfig(height: 8, width: 16)).project(scan)
        #expect(Set(zip(image.pointRow[0 ..< 3], image.pointColumn[0 ..< 3]).map { "\($0),\($1)" }).count == 1)
        let p = Int(image.pointRow[1]) * 16 + Int(image.pointColumn[1])
        #expect(image.index[p] == 1)
        #expect(image.range[p] == 5)
        #expect(image.remission[p] == 0.2)
        #expect(Array(image.xyz[3 * p ..< 3 * p + 3]) == [5, 0, 0])
        #expect(image.filledPixels == 2)
        #expect(image.mask.filter { $0 }.count == 2)
        // Straight ahead is the image's middle column; behind is column 0 or the last one.
        #expect(image.pointColumn[0] == 8)
        #expect(image.pointColumn[3] == 0 || image.pointColumn[3] == 15)
        // Empty pixels hold -1 everywhere.
        let empty = image.index.firstIndex(of: -1)!
        #expect(image.range[empty] == -1 && image.remission[empty] == -1 && image.xyz[3 * empty] == -1)
    }

    @Test func pointZeroAloneIsKept() {
        // The reference's proj_mask = proj_idx > 0 would drop this pixel.
        let image = SphericalProjection(ProjectionConfig(height: 4, width: 8)).project(Scan(points: [SIMD4(1, 1, 0, 0)]))
        #expect(image.mask.filter { $0 }.count == 1)
        #expect(image.index.contains(0))
    }

    @Test func rowsFollowTheFieldOfView() {
        let config = ProjectionConfig(height: 28, width: 360, fovUp: 3, fovDown: -25)
        // 1 degree per row: a point at +2.5 degrees lands in row 0, one at -24.5 in row 27.
        func point(elevation degrees: Double) -> SIMD4<Float> {
            let e = degrees * .pi / 180
            return SIMD4(Float(10 * cos(e)), 0, Float(10 * sin(e)), 0)
        }
        let image = SphericalProjection(config).project(Scan(points: [point(elevation: 2.5), point(elevation: -24.5), point(elevation: -0.5), point(elevation: 40), point(elevation: -60)]))
        #expect(Array(image.pointRow) == [0, 27, 3, 0, 27]) // outside the field of view: clamped
    }

    @Test func invalidPointsAreReportedAndLeftOut() {
        let scan = Scan(values: [1, 2, 3, 0.5, .nan, 0, 0, 0, 0, 0, 0, 0.2, 4, .infinity, 1, 0, -2, 1, 0, 0.9])
        let image = SphericalProjection().project(scan)
        #expect(image.skippedPoints == [.init(index: 1, problem: .nonFinite), .init(index: 2, problem: .zeroRange), .init(index: 3, problem: .nonFinite)])
        #expect(image.pointRow[1] == -1 && image.pointColumn[2] == -1 && image.pointRow[3] == -1)
        #expect(image.pointRow[0] >= 0 && image.pointRow[4] >= 0)
        #expect(image.filledPixels == 2)
        #expect(image.range.allSatisfy { $0 == -1 || $0.isFinite })
    }

    @Test func archiveHoldsTheReferenceArraysWithTheirShapes() throws {
        let scan = Scan(points: [SIMD4(10, 0, 0, 0.1), SIMD4(0, 10, -1, 0.2)])
        let labels = ScanLabels(semantic: [10, 40], instance: [7, 0])
        let image = SphericalProjection(ProjectionConfig(height: 16, width: 64)).project(scan)
        let archive = try NumPyArchive(npzData: image.archive(labels: labels).npzData())
        #expect(archive.names == ["proj_range", "proj_xyz", "proj_remission", "proj_idx", "proj_mask", "proj_x", "proj_y",
                                  "unproj_range", "proj_sem_label", "proj_inst_label"])
        #expect(archive["proj_xyz"]?.shape == [16, 64, 3])
        #expect(archive["proj_idx"]?.elementType == .int32)
        #expect(archive["proj_mask"]?.elementType == .bool)
        #expect(archive["proj_x"]?.shape == [2])
        let sem = try #require(archive["proj_sem_label"]).integers()
        #expect(sem.filter { $0 != 0 }.sorted() == [10, 40])
        let inst = try #require(archive["proj_inst_label"]).integers()
        #expect(inst.filter { $0 != 0 } == [7])
    }

    @Test func configProblemsAreExplained() {
        #expect(ProjectionConfig(height: 0).problem() != nil)
        #expect(ProjectionConfig(fovUp: -30, fovDown: -25).problem()?.contains("must be above") == true)
        #expect(ProjectionConfig().problem() == nil)
    }
}
