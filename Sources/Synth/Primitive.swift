import Foundation

/// What a surface is: its label and how it returns the laser.
struct Material: Sendable, Equatable {
    /// Raw SemanticKITTI id.
    var label: UInt16
    /// Instance id (0 for "stuff" classes).
    var instance: UInt16 = 0
    /// Mean remission (0-1) at normal incidence.
    var remission: Float
    /// Standard deviation of the remission between points.
    var spread: Float
    /// Probability that a ray passes through (foliage, wire-mesh fences).
    var passThrough: Float = 0
    /// Mean extra depth of a return below the surface, metres (foliage).
    var penetration: Float = 0
    /// The kind of appearance (`SynthKind`), nil for a class without kinds.
    var kind: SynthKind?
    /// Surface roughness as the least incidence cosine the sensor sees it at: a rough surface
    /// (paving, grass) still scatters light back at grazing angles, smooth asphalt does not.
    var roughness: Float = 0

    init(_ label: SynthClass, instance: UInt16 = 0, kind: SynthKind? = nil, remission: Float, spread: Float,
         passThrough: Float = 0, penetration: Float = 0, roughness: Float = 0) {
        precondition(kind.map { $0.rawClasses.contains(label.rawValue) } ?? true, "kind \(kind!.name) is not a kind of \(label.name)")
        self.label = label.rawValue
        self.instance = instance
        self.kind = kind
        self.remission = remission
        self.spread = spread
        self.passThrough = passThrough
        self.penetration = penetration
        self.roughness = roughness
    }
}

/// The shape of a primitive. All are upright: boxes and ellipsoids turn about the vertical
/// axis only, cylinders stand vertically.
enum Shape: UInt8, Sendable { case box, cylinder, ellipsoid }

/// A ray hit: distance along the (unit) ray and the outward surface normal.
struct Hit {
    var t: Double
    var nx: Double, ny: Double, nz: Double
}

/// A solid of the scene in world coordinates (metres, z up, the road at z = 0).
struct Primitive: Sendable {
    var shape: Shape
    /// Centre.
    var cx: Double, cy: Double, cz: Double
    /// Box: half extents along its own x (heading), y and z. Cylinder: radius, radius, half
    /// height. Ellipsoid: the three radii.
    var hx: Double, hy: Double, hz: Double
    var cosYaw: Double, sinYaw: Double
    var material: Material

    init(_ shape: Shape, center: (Double, Double, Double), half: (Double, Double, Double), yaw: Double = 0, material: Material) {
        self.shape = shape
        (cx, cy, cz) = center
        (hx, hy, hz) = half
        cosYaw = cos(yaw)
        sinYaw = sin(yaw)
        self.material = material
    }

    /// A box standing on `z0` (its bottom), `size` = (length, width, height).
    static func box(x: Double, y: Double, z0: Double = 0, size: (Double, Double, Double), yaw: Double = 0, _ material: Material) -> Primitive {
        Primitive(.box, center: (x, y, z0 + size.2 / 2), half: (size.0 / 2, size.1 / 2, size.2 / 2), yaw: yaw, material: material)
    }

    /// A vertical cylinder from `z0` to `z1`.
    static func cylinder(x: Double, y: Double, radius: Double, z0: Double, z1: Double, _ material: Material) -> Primitive {
        Primitive(.cylinder, center: (x, y, (z0 + z1) / 2), half: (radius, radius, (z1 - z0) / 2), material: material)
    }

    /// An ellipsoid (a blob: a canopy, a bush, a head).
    static func ellipsoid(x: Double, y: Double, z: Double, radii: (Double, Double, Double), yaw: Double = 0, _ material: Material) -> Primitive {
        Primitive(.ellipsoid, center: (x, y, z), half: radii, yaw: yaw, material: material)
    }

    var zMin: Double { cz - hz }
    var zMax: Double { cz + hz }

    /// The primitive of an object template (coordinates relative to the object's origin,
    /// heading along +x) placed at `(x, y)` with heading `yaw`.
    func placed(x: Double, y: Double, cosYaw c: Double, sinYaw s: Double) -> Primitive {
        var p = self
        p.cx = x + c * cx - s * cy
        p.cy = y + s * cx + c * cy
        p.cosYaw = c * cosYaw - s * sinYaw
        p.sinYaw = s * cosYaw + c * sinYaw
        return p
    }

    /// The first hit of the ray `o + t d` (d a unit vector) with `1e-6 < t < tMax`, or nil.
    /// A ray that starts inside the solid does not hit it.
    @inline(__always)
    func intersect(_ ox: Double, _ oy: Double, _ oz: Double, _ dx: Double, _ dy: Double, _ dz: Double, tMax: Double) -> Hit? {
        switch shape {
        case .box: intersectBox(ox, oy, oz, dx, dy, dz, tMax: tMax)
        case .cylinder: intersectCylinder(ox, oy, oz, dx, dy, dz, tMax: tMax)
        case .ellipsoid: intersectEllipsoid(ox, oy, oz, dx, dy, dz, tMax: tMax)
        }
    }

    private func intersectBox(_ ox: Double, _ oy: Double, _ oz: Double, _ dx: Double, _ dy: Double, _ dz: Double, tMax: Double) -> Hit? {
        let px = ox - cx, py = oy - cy, pz = oz - cz
        let c = cosYaw, s = sinYaw
        let l = (c * px + s * py, -s * px + c * py, pz)
        let v = (c * dx + s * dy, -s * dx + c * dy, dz)
        var tNear = -Double.infinity, tFar = tMax
        var axis = -1
        var sign = 0.0
        /// Clips `[tNear, tFar]` to the slab `|o + t d| <= h` of `slabAxis`; true when the ray
        /// misses the box.
        func misses(slabAxis: Int, _ o: Double, _ d: Double, _ h: Double) -> Bool {
            if abs(d) < 1e-12 { return abs(o) > h }
            let inv = 1 / d
            let ta = (-h - o) * inv, tb = (h - o) * inv
            let t0 = min(ta, tb), t1 = max(ta, tb)
            if t0 > tNear { tNear = t0; axis = slabAxis; sign = d > 0 ? -1 : 1 }
            if t1 < tFar { tFar = t1 }
            return tNear > tFar
        }
        if misses(slabAxis: 0, l.0, v.0, hx) || misses(slabAxis: 1, l.1, v.1, hy) || misses(slabAxis: 2, l.2, v.2, hz) {
            return nil
        }
        guard tNear > 1e-6, axis >= 0 else { return nil }
        switch axis {
        case 0: return Hit(t: tNear, nx: c * sign, ny: s * sign, nz: 0)
        case 1: return Hit(t: tNear, nx: -s * sign, ny: c * sign, nz: 0)
        default: return Hit(t: tNear, nx: 0, ny: 0, nz: sign)
        }
    }

    private func intersectCylinder(_ ox: Double, _ oy: Double, _ oz: Double, _ dx: Double, _ dy: Double, _ dz: Double, tMax: Double) -> Hit? {
        let px = ox - cx, py = oy - cy
        let r = hx
        let a = dx * dx + dy * dy
        let cc = px * px + py * py - r * r
        var tNear = -Double.infinity, tFar = tMax
        var side = true
        if a < 1e-18 {
            if cc > 0 { return nil }
        } else {
            let b = px * dx + py * dy
            let disc = b * b - a * cc
            if disc <= 0 { return nil }
            let root = disc.squareRoot()
            tNear = (-b - root) / a
            tFar = min(tFar, (-b + root) / a)
            if tNear > tFar { return nil }
        }
        let z0 = cz - hz, z1 = cz + hz
        if abs(dz) < 1e-12 {
            if oz < z0 || oz > z1 { return nil }
        } else {
            let ta = (z0 - oz) / dz, tb = (z1 - oz) / dz
            let t0 = min(ta, tb), t1 = max(ta, tb)
            if t0 > tNear { tNear = t0; side = false }
            if t1 < tFar { tFar = t1 }
            if tNear > tFar { return nil }
        }
        guard tNear > 1e-6 else { return nil }
        if side {
            let hxp = px + tNear * dx, hyp = py + tNear * dy
            return Hit(t: tNear, nx: hxp / r, ny: hyp / r, nz: 0)
        }
        return Hit(t: tNear, nx: 0, ny: 0, nz: dz > 0 ? -1 : 1)
    }

    private func intersectEllipsoid(_ ox: Double, _ oy: Double, _ oz: Double, _ dx: Double, _ dy: Double, _ dz: Double, tMax: Double) -> Hit? {
        let px = ox - cx, py = oy - cy, pz = oz - cz
        let c = cosYaw, s = sinYaw
        // Local coordinates scaled to the unit sphere.
        let qx = (c * px + s * py) / hx, qy = (-s * px + c * py) / hy, qz = pz / hz
        let vx = (c * dx + s * dy) / hx, vy = (-s * dx + c * dy) / hy, vz = dz / hz
        let a = vx * vx + vy * vy + vz * vz
        let b = qx * vx + qy * vy + qz * vz
        let cc = qx * qx + qy * qy + qz * qz - 1
        if cc <= 0 { return nil }
        let disc = b * b - a * cc
        if disc <= 0 { return nil }
        let t = (-b - disc.squareRoot()) / a
        guard t > 1e-6, t < tMax else { return nil }
        let nlx = (qx + t * vx) / hx, nly = (qy + t * vy) / hy, nlz = (qz + t * vz) / hz
        let wx = c * nlx - s * nly, wy = s * nlx + c * nly
        let norm = (wx * wx + wy * wy + nlz * nlz).squareRoot()
        return Hit(t: t, nx: wx / norm, ny: wy / norm, nz: nlz / norm)
    }

    /// The primitive's extent as seen from `(sx, sy)` in the ground plane: nearest and farthest
    /// horizontal distance, and the azimuth interval `centre +- half` (radians). `half` is
    /// `.pi` when the point lies inside the footprint.
    func footprintBounds(fromX sx: Double, y sy: Double) -> (dmin: Double, dmax: Double, center: Double, half: Double) {
        let px = cx - sx, py = cy - sy
        let center = atan2(py, px)
        switch shape {
        case .box:
            let c = cosYaw, s = sinYaw
            let lx = -(c * px + s * py), ly = -(-s * px + c * py)  // the sensor in box coordinates
            let qx = max(abs(lx) - hx, 0), qy = max(abs(ly) - hy, 0)
            let dmin = (qx * qx + qy * qy).squareRoot()
            var dmax = 0.0
            var lo = 0.0, hi = 0.0
            for (ex, ey) in [(hx, hy), (hx, -hy), (-hx, hy), (-hx, -hy)] {
                let wx = px + c * ex - s * ey, wy = py + s * ex + c * ey
                dmax = max(dmax, (wx * wx + wy * wy).squareRoot())
                var a = atan2(wy, wx) - center
                if a > .pi { a -= 2 * .pi } else if a < -.pi { a += 2 * .pi }
                lo = min(lo, a)
                hi = max(hi, a)
            }
            if dmin == 0 { return (0, dmax, center, .pi) }
            let mid = (lo + hi) / 2
            return (dmin, dmax, center + mid, (hi - lo) / 2)
        case .cylinder, .ellipsoid:
            let r = max(hx, hy)
            let d = (px * px + py * py).squareRoot()
            if d <= r { return (0, d + r, center, .pi) }
            return (d - r, d + r, center, asin(r / d))
        }
    }
}
