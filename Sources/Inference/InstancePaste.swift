import Foundation
import Projection
import Random
import SemanticKITTI

/// Adds objects to a scan as the sensor would have seen them: in every range-image pixel where
/// both the scan and the pasted objects have points, the nearer side keeps its points there and
/// the other loses them. A pasted object hides the ground and walls behind it, and a pasted
/// object behind a nearer scan point is cut where that point covers it.
///
/// Pixels are those of the training projection (`SphericalProjection`), so occlusion is judged
/// at the resolution the network sees. Scan points the projection cannot place are kept;
/// pasted points it cannot place are dropped. Used by `augmentation.paste` (objects from the
/// `InstanceBank`, each turned by a random angle about z) and by `SceneMix`'s rotated copies.
public struct InstancePaste: Sendable {
    public let projector: SphericalProjection

    public init(projector: SphericalProjection) { self.projector = projector }

    /// The scan with `objects` pasted (occlusion applied): the scan's kept points in their
    /// order, then the objects' kept points; `labels` follow their points.
    /// - Parameters:
    ///   - objects: points (x, y, z, remission, four floats each) and one learning id per object.
    public func paste(_ objects: [(points: [Float], learningID: Int32)], into scan: Scan, labels: [Int32]) -> (scan: Scan, labels: [Int32]) {
        precondition(labels.count == scan.count, "one label per point")
        let pastedValues = objects.flatMap(\.points)
        guard !pastedValues.isEmpty else { return (scan, labels) }
        let pastedLabels = objects.flatMap { [Int32](repeating: $0.learningID, count: $0.points.count / 4) }
        let pasted = Scan(values: pastedValues)
        let width = projector.config.width
        let own = projector.project(scan), other = projector.project(pasted)
        // The nearest range of each side in every pixel: the projection's range image, whose
        // pixels hold their nearest point's range (infinitely far where empty, -1 there).
        func nearest(_ image: RangeImage) -> [Float] { image.range.map { $0 < 0 ? .infinity : $0 } }
        let scanNearest = nearest(own), pastedNearest = nearest(other)
        var values: [Float] = []
        values.reserveCapacity(scan.values.count + pastedValues.count)
        var kept: [Int32] = []
        kept.reserveCapacity(labels.count + pastedLabels.count)
        for i in 0 ..< scan.count {
            if own.pointRow[i] >= 0 {
                let p = Int(own.pointRow[i]) * width + Int(own.pointColumn[i])
                if pastedNearest[p] < scanNearest[p] { continue }
            }
            values += scan.values[(4 * i) ..< (4 * i + 4)]
            kept.append(labels[i])
        }
        for i in 0 ..< pasted.count where other.pointRow[i] >= 0 {
            let p = Int(other.pointRow[i]) * width + Int(other.pointColumn[i])
            guard pastedNearest[p] < scanNearest[p] else { continue }
            values += pastedValues[(4 * i) ..< (4 * i + 4)]
            kept.append(pastedLabels[i])
        }
        return (Scan(values: values), kept)
    }

    /// `points` (four floats each) turned by `angle` radians about z; remission unchanged.
    public static func rotated(_ points: [Float], by angle: Float) -> [Float] {
        let c = cosf(angle), s = sinf(angle)
        var out = points
        for i in stride(from: 0, to: points.count, by: 4) {
            let x = points[i], y = points[i + 1]
            out[i] = c * x - s * y
            out[i + 1] = s * x + c * y
        }
        return out
    }

    /// `augmentation.paste`: `count` instances of `bank` drawn with `generator` (none cut from
    /// the scan's own frame `frame`; a class drawn evenly among the rare classes the bank holds,
    /// then one of its instances), each turned by a random angle about z, pasted with occlusion.
    public func pasteFromBank(_ bank: InstanceBank, count: Int, into scan: Scan, labels: [Int32], frame: Int,
                              generator: inout RandomGenerator) -> (scan: Scan, labels: [Int32]) {
        var byClass: [Int32: [Int]] = [:]
        for (k, instance) in bank.instances.enumerated() where instance.frame != frame { byClass[instance.learningID, default: []].append(k) }
        let classes = byClass.keys.sorted()
        guard count > 0, !classes.isEmpty else { return (scan, labels) }
        var objects: [(points: [Float], learningID: Int32)] = []
        for _ in 0 ..< count {
            let members = byClass[classes[generator.int(0 ..< classes.count)]]!
            let instance = bank.instances[members[generator.int(0 ..< members.count)]]
            let angle = Float(generator.uniform() * 2 * .pi)
            objects.append((Self.rotated(instance.points, by: angle), instance.learningID))
        }
        return paste(objects, into: scan, labels: labels)
    }
}
