import Foundation
import Random

/// Casts one revolution of the sensor into a scene.
///
/// Acceleration: the primitives near the sensor are sorted by their nearest horizontal distance
/// and binned by the azimuth columns (firings) they cover; a ray walks only its column's list,
/// skips primitives outside its elevation band, and stops at the first primitive that begins
/// beyond the nearest hit so far. The road plane is intersected analytically.
struct RayCaster {
    let sensor: SensorModel

    /// The ego car's roof, in the sensor frame, blocks the lowest beams behind and beside it.
    /// Fraction of returns that are spurious.
    static let outlierRate = 0.0004

    static let egoFront = 0.6, egoBack = -2.2, egoHalfWidth = 0.85, egoTop = -1.0

    /// The share of a surface's remission the sensor reports at `incidence` (the cosine between
    /// the ray and the surface normal) and `range` metres. Calibrated to statistics of real
    /// HDL-64E scans (the labelled scans of SemanticKITTI's sequence 00 in the sample; see
    /// docs/synthetic-data.md): remission is nearly flat with incidence down to a grazing angle
    /// (road at 5 m and at 20 m reads 0.27 and 0.25), drops fast below it (road 0.10 at 25-30 m,
    /// where vegetation keeps 0.27), and fades beyond 20 m for every class (vegetation and
    /// building at 35-40 m read about half their near value).
    static func response(incidence: Double, range: Double) -> Double {
        let grazing = min(1, (incidence / 0.08) * (incidence / 0.08))
        let fade = range <= 20 ? 1 : exp(-(range - 20) / 25)
        return (0.7 + 0.3 * incidence) * grazing * fade
    }

    /// Remission under this reads 0, as in KITTI's scans, which hold almost no values between 0
    /// and 0.04 (23 points of 0.01 against 31,709 of 0 in the sample's labelled scans).
    static let remissionFloor = 0.035

    struct Output {
        var values: [Float]
        var labels: [UInt32]
        /// Each point's `SynthKind` raw value, 0 for a class without kinds (and outliers).
        var kinds: [UInt32]
    }

    func cast(scene: Scene, time: Double, seed: UInt64) -> Output {
        let pose = scene.trajectory.state(at: time)
        let sx = pose.x, sy = pose.y, sz = sensor.mountHeight
        let yaw = pose.yaw
        let maxRange = sensor.maxRange
        let n = sensor.firings
        let elevations = sensor.elevations.map { $0 * .pi / 180 }
        let tanHigh = tan(elevations.max() ?? 0), tanLow = tan(elevations.min() ?? 0)

        // The primitives in range, static and moving.
        var prims = Array(scene.statics(nearX: sx, radius: maxRange))
        for mover in scene.movers {
            let x = mover.followsEgo ? sx + mover.x0 : mover.x0 + mover.speed * time
            if abs(x - sx) < maxRange + 15 { prims.append(contentsOf: mover.parts(at: time, egoX: sx)) }
        }

        // Bounds of each primitive as seen from the sensor.
        // A key per primitive from its geometry, the same whatever else is in range: it orders
        // ties and draws the pass-through of foliage, so a scan never depends on the scene's extent.
        let keys = prims.map { p in
            RandomGenerator.mix(p.cx.bitPattern ^ RandomGenerator.mix(p.cy.bitPattern ^ RandomGenerator.mix(p.cz.bitPattern ^ p.hx.bitPattern)))
        }
        var cand: [(dmin: Double, tanMin: Double, tanMax: Double, prim: Int32, lo: Int, hi: Int)] = []
        cand.reserveCapacity(prims.count)
        let step = 2 * Double.pi / Double(n)
        for (i, p) in prims.enumerated() {
            let b = p.footprintBounds(fromX: sx, y: sy)
            guard b.dmin < maxRange else { continue }
            let zlo = p.zMin - sz, zhi = p.zMax - sz
            let tanMax = zhi >= 0 ? (b.dmin > 0 ? zhi / b.dmin : .infinity) : zhi / b.dmax
            let tanMin = zlo <= 0 ? (b.dmin > 0 ? zlo / b.dmin : -.infinity) : zlo / b.dmax
            guard tanMax >= tanLow, tanMin <= tanHigh else { continue }
            var lo = 0, hi = n - 1
            if b.half < .pi {
                let a = b.center - yaw
                lo = Int(floor((a - b.half) / step))
                hi = Int(ceil((a + b.half) / step))
                if hi - lo + 1 >= n { lo = 0; hi = n - 1 }
            }
            cand.append((b.dmin, tanMin, tanMax, Int32(i), lo, hi))
        }
        cand.sort { ($0.dmin, keys[Int($0.prim)]) < ($1.dmin, keys[Int($1.prim)]) }

        // Column lists, each sorted by nearest distance.
        var start = [Int](repeating: 0, count: n + 1)
        for c in cand {
            for f in c.lo ... c.hi { start[((f % n) + n) % n + 1] += 1 }
        }
        for f in 0 ..< n { start[f + 1] += start[f] }
        var fill = start
        var list = [Int32](repeating: 0, count: start[n])
        for (k, c) in cand.enumerated() {
            for f in c.lo ... c.hi {
                let col = ((f % n) + n) % n
                list[fill[col]] = Int32(k)
                fill[col] += 1
            }
        }
        let cDmin = cand.map(\.dmin), cTanMin = cand.map(\.tanMin), cTanMax = cand.map(\.tanMax), cPrim = cand.map(\.prim)

        // Ray directions: azimuth of firing f is f * step, counter-clockwise from forward (x),
        // the order of KITTI's points within a beam.
        var cosA = [Double](repeating: 0, count: n), sinA = cosA, cosW = cosA, sinW = cosA
        for f in 0 ..< n {
            let a = Double(f) * step
            cosA[f] = cos(a); sinA[f] = sin(a)
            cosW[f] = cos(a + yaw); sinW[f] = sin(a + yaw)
        }
        let near = scene.street.nearby(x: sx, radius: maxRange + 20)

        // Each laser of a real HDL-64E returns a slightly different intensity for the same
        // surface (visible as row stripes in remission images): a fixed gain per beam.
        let gains = (0 ..< elevations.count).map { beam in
            var r = RandomGenerator(seed: RandomGenerator.derive(0x4864_6C36_3445, UInt64(beam)))
            return 1 + 0.07 * r.approximateGaussian()
        }
        var rng = RandomGenerator(seed: seed)
        var values: [Float] = []
        var labels: [UInt32] = []
        var kinds: [UInt32] = []
        values.reserveCapacity(sensor.raysPerScan * 4)
        labels.reserveCapacity(sensor.raysPerScan)
        kinds.reserveCapacity(sensor.raysPerScan)
        let farStart = maxRange * 0.5

        for (beam, e) in elevations.enumerated() {
            let ce = cos(e), se = sin(e), te = se / ce
            // Horizontal distance at which the ray reaches the ego car's roof.
            let egoReach = se < 0 ? RayCaster.egoTop / te : -1
            for f in 0 ..< n {
                if egoReach > 0 {
                    let px = egoReach * cosA[f], py = egoReach * sinA[f]
                    if px > RayCaster.egoBack, px < RayCaster.egoFront, abs(py) < RayCaster.egoHalfWidth { continue }
                }
                let dx = ce * cosW[f], dy = ce * sinW[f], dz = se
                var best = maxRange
                var hitPrim = -1
                var hit = Hit(t: 0, nx: 0, ny: 0, nz: 1)
                var ground = false
                if dz < 0 {
                    let tg = -sz / dz
                    if tg < best { best = tg; ground = true }
                }
                var bestH = best * ce
                let ray = UInt64(beam * n + f)
                var k = start[f]
                let end = start[f + 1]
                while k < end {
                    let c = Int(list[k])
                    k += 1
                    if cDmin[c] >= bestH { break }
                    if te < cTanMin[c] || te > cTanMax[c] { continue }
                    let pi = Int(cPrim[c])
                    let p = prims[pi]
                    if p.material.passThrough > 0 {
                        let u = Float(RandomGenerator.mix(seed ^ (ray << 24) ^ keys[pi]) >> 40) * 0x1.0p-24
                        if u < p.material.passThrough { continue }
                    }
                    if let h = p.intersect(sx, sy, sz, dx, dy, dz, tMax: best) {
                        best = h.t
                        bestH = best * ce
                        hit = h
                        hitPrim = pi
                        ground = false
                    }
                }
                guard ground || hitPrim >= 0 else { continue }  // no return: sky or beyond range

                var material: Material
                var texture = 0.0
                if ground {
                    let gx = sx + dx * best, gy = sy + dy * best
                    material = scene.street.ground(x: gx, y: gy, near: near)
                    hit = Hit(t: best, nx: 0, ny: 0, nz: 1)
                    // Worn and patched asphalt, damp and dry grass: remission varies over metres.
                    texture = 0.07 * valueNoise(gx / 2.5, gy / 2.5, seed: scene.textureSeed) + 0.04 * valueNoise(gx / 0.6, gy / 0.6, seed: scene.textureSeed &+ 1)
                } else {
                    material = prims[hitPrim].material
                }
                let incidence = abs(hit.nx * dx + hit.ny * dy + hit.nz * dz)
                var range = best + sensor.rangeNoise * rng.approximateGaussian()
                var remission = (Double(material.remission) + texture) * RayCaster.response(incidence: max(incidence, Double(material.roughness)), range: best) * gains[beam]
                    + Double(material.spread) * rng.approximateGaussian()
                remission = min(max(remission, 0), 0.99)
                if remission < RayCaster.remissionFloor { remission = 0 }

                // A rare spurious early return (dust, rain, crosstalk): SemanticKITTI's "outlier".
                if rng.uniform() < RayCaster.outlierRate {
                    range = sensor.minRange + (range - sensor.minRange) * rng.uniform()
                    material = Material(.outlier, remission: 0.05, spread: 0)
                }
                if material.penetration > 0 {
                    range += Double(material.penetration) * 4 * rng.uniform() * rng.uniform()
                }
                // Lost returns: at random, at grazing incidence, and far dark surfaces.
                var loss = sensor.dropRate
                if incidence < 0.08 { loss += 0.4 }
                if range > farStart {
                    let x = (range - farStart) / (maxRange - farStart)
                    loss += x * x * (1 - remission) * 0.7
                }
                if rng.uniform() < loss { continue }
                guard range >= sensor.minRange, range < maxRange else { continue }

                let r = range
                values.append(Float(ce * cosA[f] * r))
                values.append(Float(ce * sinA[f] * r))
                values.append(Float(se * r))
                values.append(Float((remission * 100).rounded() / 100))
                labels.append(UInt32(material.label) | UInt32(material.instance) << 16)
                kinds.append(UInt32(material.kind?.seen(at: r).rawValue ?? 0))
            }
        }
        return Output(values: values, labels: labels, kinds: kinds)
    }
}

/// Smooth noise in [-1, 1] over the plane: random values on the integer lattice, blended with a
/// smoothstep. The same for a seed on every platform (no transcendental functions).
@inline(__always)
func valueNoise(_ x: Double, _ y: Double, seed: UInt64) -> Double {
    let fx = x.rounded(.down), fy = y.rounded(.down)
    let ix = Int64(fx), iy = Int64(fy)
    func lattice(_ i: Int64, _ j: Int64) -> Double {
        let h = RandomGenerator.mix(seed ^ RandomGenerator.mix(UInt64(bitPattern: i) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(bitPattern: j)))
        return Double(h >> 11) * 0x1.0p-52 - 1
    }
    var u = x - fx, v = y - fy
    u = u * u * (3 - 2 * u)
    v = v * v * (3 - 2 * v)
    let a = lattice(ix, iy), b = lattice(ix + 1, iy), c = lattice(ix, iy + 1), d = lattice(ix + 1, iy + 1)
    return a + (b - a) * u + (c - a) * v + (a - b - c + d) * u * v
}
