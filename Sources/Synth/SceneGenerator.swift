import Foundation
import Random

/// Builds the world of one sequence from its seed: a straight street with lanes, curbs and
/// sidewalks, cross streets, and along each side a run of frontages (buildings, green, parking
/// lots, fenced yards, woods) with their furniture, parked and moving vehicles and people.
struct SceneGenerator {
    /// World x covered by the scene: the sensor stays within `0 ... xEnd - 110`.
    let xStart: Double, xEnd: Double
    /// How long the run is, seconds (movers are generated far enough ahead to meet the sensor).
    let duration: Double
    private let seed: UInt64
    private var rng: RandomGenerator
    private var nextInstance = 1
    private var phaseCount = 0
    private var instancesMade = 0
    private var statics: [Primitive] = []
    private var movers: [Mover] = []
    private var street: Street
    /// How built-up the sequence is (0 rural-green to 1 dense city).
    private let urban: Double
    /// Whether every class and kind is placed on purpose beside the drive (`stage()`).
    private let staged: Bool

    /// Frontage kinds along one side of the street.
    enum Frontage: CaseIterable { case buildings, green, parkingLot, fencedYard, woods }

    init(seed: UInt64, duration: Double, staged: Bool = false) {
        self.seed = seed
        self.duration = duration
        self.staged = staged
        rng = RandomGenerator(seed: seed)
        xStart = -110
        xEnd = Trajectory.maxSpeed * duration + 110
        urban = rng.uniform(0.35, 0.9)
        street = Street(
            laneWidth: rng.uniform(2.9, 3.4), lanes: rng.chance(0.2) ? 2 : 1,
            parkingWidth: rng.chance(0.25) ? 0 : rng.uniform(2.0, 2.4),
            sidewalkWidth: rng.uniform(2.2, 4.2), curbHeight: rng.uniform(0.1, 0.16)
        )
    }

    /// The scene of a run of `duration` seconds. A longer run's scene holds the same world
    /// around the shorter run's path (every part of the world has its own random stream and is
    /// laid out from the start of the street onwards), so its first scans are the same.
    ///
    /// `staged` adds `stage()`'s exhibits of every class and kind along the drive (on streams of
    /// their own, so the rest of the world is the same with and without them).
    static func generate(seed: UInt64, duration: Double, staged: Bool = false) -> Scene {
        var g = SceneGenerator(seed: seed, duration: duration, staged: staged)
        return g.build()
    }

    /// Starts a part of the world that holds things: its own random stream and its own range
    /// of instance ids.
    private mutating func phase(_ id: UInt64, side: Int = 0) {
        stream(id, side: side)
        nextInstance = 1 + phaseCount * 4096
        phaseCount += 1
    }

    /// Starts a random stream of its own, so that what is drawn here does not depend on how many
    /// numbers earlier loops (which run to the end of the world) drew.
    private mutating func stream(_ id: UInt64, side: Int = 0) {
        rng = RandomGenerator(seed: RandomGenerator.derive(seed, id, UInt64(bitPattern: Int64(side))))
    }

    // MARK: - Whole scene

    private mutating func build() -> Scene {
        let trajectory = Trajectory(
            speed: rng.uniform(6.5, 10), speedSwing: rng.uniform(0.5, 2), speedRate: rng.uniform(0.15, 0.4),
            speedPhase: rng.uniform(0, 2 * .pi),
            lane: street.laneCenter(street.lanes - 1, side: -1) + rng.uniform(-0.15, 0.15),
            wiggle: rng.uniform(0.05, 0.2), wiggleRate: rng.uniform(0.2, 0.6), wigglePhase: rng.uniform(0, 2 * .pi)
        )
        stream(1)
        placeCrossings()
        for side in [-1, 1] {
            phase(2, side: side)
            sidewalks(side: side)
            frontages(side: side)
            curbFurniture(side: side)
            stream(4, side: side)
            background(side: side)
            pedestrians(side: side)
        }
        traffic()
        riders()
        stream(9)
        islands()
        if staged { stage() }
        return Scene(street: street, statics: statics, movers: movers, trajectory: trajectory, instanceCount: instancesMade, textureSeed: RandomGenerator.derive(seed, 0x7E47))
    }

    /// A new instance id (ids are unique within a sequence: 4095 per part of the world).
    private mutating func instance() -> UInt16 {
        let base = 1 + (phaseCount - 1) * 4096
        defer { nextInstance = base + (nextInstance - base + 1) % 4095; instancesMade += 1 }
        return UInt16(nextInstance)
    }

    /// Where generation of the static world stops: beyond `xEnd`, so that the layout up to
    /// `xEnd` never depends on where the world ends.
    private var extent: Double { xEnd + 300 }

    /// The x intervals of `[x0, x1]` on `side` not covered by a cross street.
    private func openIntervals(_ x0: Double, _ x1: Double, side: Int) -> [(Double, Double)] {
        var out: [(Double, Double)] = []
        var x = x0
        for c in street.crossings.sorted(by: { $0.x0 < $1.x0 }) where c.side == 0 || c.side == side {
            if c.x1 < x || c.x0 > x1 { continue }
            if c.x0 > x { out.append((x, c.x0)) }
            x = max(x, c.x1)
        }
        if x < x1 { out.append((x, x1)) }
        return out
    }

    private func crossingAt(_ x: Double, side: Int, margin: Double = 0) -> Bool {
        street.crossings.contains { $0.x0 - margin <= x && x <= $0.x1 + margin && ($0.side == 0 || $0.side == side) }
    }

    // MARK: - Street

    private mutating func placeCrossings() {
        var x = xStart + rng.uniform(20, 120)
        while x < extent {
            let width = rng.uniform(9, 14)
            let side = rng.pick([(0, 0.5), (1, 0.25), (-1, 0.25)])
            street.crossings.append(StreetInterval(x0: x, x1: x + width, side: side))
            if rng.chance(0.7) { street.zebras.append(x - rng.uniform(5, 7)) }
            // The cross street's sidewalks, running away from the main street.
            let sw = street.sidewalkWidth
            for s in side == 0 ? [-1, 1] : [side] {
                for edge in [x, x + width - sw] {
                    var a = street.roadHalf
                    while a < street.roadHalf + 90 {
                        let len = min(15, street.roadHalf + 90 - a)
                        statics.append(.box(x: edge + sw / 2, y: Double(s) * (a + len / 2), size: (sw, len, street.curbHeight), Street.sidewalk))
                        a += len
                    }
                }
                // Buildings or trees along the cross street, set back behind its sidewalks.
                var a = street.sidewalkOuter + rng.uniform(2, 8)
                while a < street.roadHalf + 90 {
                    let len = rng.uniform(10, 25)
                    if rng.chance(urban) {
                        for (edge, dir) in [(x - 2, -1.0), (x + width + 2, 1.0)] {
                            let depth = rng.uniform(8, 15)
                            statics.append(.box(x: edge + dir * depth / 2, y: Double(s) * (a + len / 2), size: (depth, len, rng.uniform(5, 18)), buildingMaterial(.facade)))
                        }
                    } else {
                        for edge in [x - 3, x + width + 3] { tree(x: edge, y: Double(s) * (a + len / 2)) }
                    }
                    a += len + rng.uniform(2, 10)
                }
            }
            x += width + rng.uniform(70, 220)
        }
    }

    private mutating func sidewalks(side: Int) {
        let s = Double(side)
        let y = s * (street.roadHalf + street.sidewalkWidth / 2)
        for (a, b) in openIntervals(xStart, extent, side: side) where a < xEnd {
            var x = a
            while x < min(b, xEnd) {
                let len = min(15, b - x)
                statics.append(.box(x: x + len / 2, y: y, size: (len, street.sidewalkWidth, street.curbHeight), Street.sidewalk))
                x += len
            }
        }
    }

    private mutating func frontages(side: Int) {
        let weights: [(Frontage, Double)] = [
            (.buildings, 0.3 + 0.6 * urban), (.green, 0.2 + 0.3 * (1 - urban)), (.parkingLot, 0.1),
            (.fencedYard, 0.1), (.woods, 0.1 + 0.3 * (1 - urban)),
        ]
        for (a, b) in openIntervals(xStart, extent, side: side) where a < xEnd {
            var x = a
            while x < min(b - 5, xEnd) {
                let len = min(rng.uniform(25, 70), b - x)
                let kind = rng.pick(weights)
                switch kind {
                case .buildings: buildings(x, x + len, side: side)
                case .green: green(x, x + len, side: side)
                case .parkingLot: parkingLot(x, x + len, side: side)
                case .fencedYard: fencedYard(x, x + len, side: side)
                case .woods: woods(x, x + len, side: side)
                }
                if street.parkingWidth > 0, rng.chance(0.25 + 0.35 * urban) { parkingBay(x + 1, x + len - 1, side: side) }
                x += len
            }
        }
    }

    // MARK: - Frontages

    private mutating func buildingMaterial(_ kind: SynthKind) -> Material {
        Material(.building, kind: kind, remission: Float(rng.uniform(0.3, 0.66)), spread: 0.13)
    }

    private mutating func buildings(_ x0: Double, _ x1: Double, side: Int) {
        let s = Double(side)
        let yard = rng.chance(0.3) ? rng.uniform(0, 1) : rng.uniform(2, 6)
        let front = street.sidewalkOuter + yard
        if yard > 2, rng.chance(0.5) {
            if rng.chance(0.5) {
                fence(x0 + 0.5, x1 - 0.5, y: s * (street.sidewalkOuter + 0.3))
            } else {
                hedge(x0 + 0.5, x1 - 0.5, y: s * (street.sidewalkOuter + 0.6))
            }
        }
        var x = x0 + rng.uniform(0, 3)
        while x < x1 - 4 {
            let len = min(rng.uniform(10, 35), x1 - x)
            let depth = rng.uniform(9, 18)
            let height = rng.uniform(6, 9 + 14 * urban)
            let setback = front + (rng.chance(0.3) ? rng.uniform(0, 3) : 0)
            let yaw = rng.chance(0.2) ? rng.uniform(-0.06, 0.06) : 0
            statics.append(.box(x: x + len / 2, y: s * (setback + depth / 2), size: (len, depth, height), yaw: yaw, buildingMaterial(.facade)))
            if rng.chance(0.12) {  // a lower wing or a garage: in front where the yard allows, else behind
                let w = rng.uniform(4, 8)
                let room = setback - street.sidewalkOuter - 0.5
                if room > 2 {
                    let d = min(w / 2, room)
                    statics.append(.box(x: x + len * 0.3, y: s * (setback - d / 2), size: (len * 0.4, d, min(3.5, height * 0.5)), buildingMaterial(.annex)))
                } else {
                    statics.append(.box(x: x + len / 2, y: s * (setback + depth + w / 2), size: (len * 0.6, w, height * 0.5), buildingMaterial(.annex)))
                }
            }
            if yard > 2 {
                for _ in 0 ..< rng.int(1 ... 5) {
                    bush(x: rng.uniform(x, x + len), y: s * rng.uniform(street.sidewalkOuter + 1, setback - 0.5))
                }
                for _ in 0 ..< rng.pick([(0, 0.4), (1, 0.4), (2, 0.2)]) { tree(x: rng.uniform(x, x + len), y: s * (street.sidewalkOuter + yard / 2)) }
            }
            if rng.chance(0.25) {  // people at the door
                for _ in 0 ..< rng.int(1 ... 2) {
                    let parts = person(height: rng.uniform(1.5, 1.9), instance: instance(), kind: .standing)
                    let px = rng.uniform(x, x + len), py = s * (street.sidewalkOuter - rng.uniform(0.3, 1.2)), yaw = rng.uniform(0, 2 * .pi)
                    statics.append(contentsOf: parts.map { $0.placed(x: px, y: py, cosYaw: cos(yaw), sinYaw: sin(yaw)) })
                }
            }
            if rng.chance(0.12) { parkedBicycles(x: x + rng.uniform(0, len), side: side) }
            x += len + (rng.chance(0.5) ? rng.uniform(0, 1) : rng.uniform(3, 12))
        }
    }

    private mutating func green(_ x0: Double, _ x1: Double, side: Int) {
        let s = Double(side)
        let near = street.sidewalkOuter
        if rng.chance(0.15) { fence(x0 + 0.5, x1 - 0.5, y: s * (near + 0.5)) }
        if rng.chance(0.4) {
            hedge(x0 + 0.5, x1 - 0.5, y: s * (near + rng.uniform(0.8, 2)))
        } else if rng.chance(0.6) {
            shrubBelt(x0, x1, y: s * (near + rng.uniform(1, 3)))
        }
        let trees = Int((x1 - x0) / rng.uniform(4, 10))
        for _ in 0 ..< trees { tree(x: rng.uniform(x0, x1), y: s * (near + rng.uniform(2, 25))) }
        for _ in 0 ..< Int((x1 - x0) / rng.uniform(2, 6)) { bush(x: rng.uniform(x0, x1), y: s * (near + rng.uniform(1, 15))) }
        for _ in 0 ..< rng.int(0 ... 2) {  // grass mounds
            let r = rng.uniform(3, 7)
            statics.append(.ellipsoid(x: rng.uniform(x0, x1), y: s * (near + r + rng.uniform(1, 10)), z: 0, radii: (r, r * rng.uniform(0.6, 1), rng.uniform(0.3, 0.8)), Street.mound))
        }
        if rng.chance(0.15) { parkedBicycles(x: rng.uniform(x0, x1), side: side) }
        if rng.chance(0.3) {  // people on the lawn
            let height = rng.uniform(1.1, 1.9)
            let parts = person(height: height, instance: instance(), kind: height < 1.35 ? .child : .sitting)
            let px = rng.uniform(x0, x1), py = s * (near + rng.uniform(2, 12))
            statics.append(contentsOf: parts.map { $0.placed(x: px, y: py, cosYaw: 0, sinYaw: 1) })
        }
    }

    private mutating func woods(_ x0: Double, _ x1: Double, side: Int) {
        let s = Double(side)
        let near = street.sidewalkOuter + rng.uniform(1, 5)
        for _ in 0 ..< Int((x1 - x0) * 25 / rng.uniform(12, 25)) {
            tree(x: rng.uniform(x0, x1), y: s * (near + rng.uniform(0, 25)))
        }
        for _ in 0 ..< Int((x1 - x0) / 1.5) { bush(x: rng.uniform(x0, x1), y: s * (near + rng.uniform(-1, 8))) }
    }

    private mutating func fencedYard(_ x0: Double, _ x1: Double, side: Int) {
        let s = Double(side)
        fence(x0 + 0.3, x1 - 0.3, y: s * (street.sidewalkOuter + 0.2))
        if rng.chance(0.5) { hedge(x0 + 0.3, x1 - 0.3, y: s * (street.sidewalkOuter + 1)) }
        for _ in 0 ..< Int((x1 - x0) / 4) { bush(x: rng.uniform(x0, x1), y: s * (street.sidewalkOuter + rng.uniform(1.5, 6))) }
        for _ in 0 ..< Int((x1 - x0) / 15) { tree(x: rng.uniform(x0, x1), y: s * (street.sidewalkOuter + rng.uniform(3, 10))) }
        var x = x0 + rng.uniform(2, 6)
        while x < x1 - 8 {
            let len = rng.uniform(8, 14)
            let depth = rng.uniform(8, 12)
            statics.append(.box(x: x + len / 2, y: s * (street.sidewalkOuter + rng.uniform(6, 12) + depth / 2), size: (len, depth, rng.uniform(5, 9)), buildingMaterial(.backyardHouse)))
            x += len + rng.uniform(4, 10)
        }
    }

    private mutating func parkingLot(_ x0: Double, _ x1: Double, side: Int) {
        let s = Double(side)
        let near = street.sidewalkOuter + 1
        let rows = rng.int(1 ... 3)
        let depth = Double(rows) * 11
        let lot = GroundRect(x0: x0 + 1, x1: x1 - 1, y0: side > 0 ? near : -(near + depth), y1: side > 0 ? near + depth : -near)
        street.lots.append(lot)
        if rng.chance(0.5) { hedge(x0 + 1, x1 - 1, y: s * (near - 0.5)) }
        for row in 0 ..< rows {
            for line in [0.0, 1.0] {
                let y = s * (near + Double(row) * 11 + 3 + line * 5)
                var x = x0 + 2.5
                while x < x1 - 2.5 {
                    if rng.chance(0.5) {
                        let heading = (line == 0) == (side > 0) ? Double.pi / 2 : -Double.pi / 2
                        parkVehicle(x: x + rng.uniform(-0.15, 0.15), y: y, yaw: heading + rng.uniform(-0.06, 0.06), mix: true)
                    }
                    x += 2.6
                }
            }
        }
        statics.append(.box(x: (x0 + x1) / 2, y: s * (near + depth + 8), size: (x1 - x0 - 4, 12, rng.uniform(6, 16)), buildingMaterial(.backyardHouse)))
    }

    private mutating func parkingBay(_ x0: Double, _ x1: Double, side: Int) {
        guard x1 - x0 > 6 else { return }
        street.bays.append(StreetInterval(x0: x0, x1: x1, side: side))
        let s = Double(side), lanesEdge = Double(street.lanes) * street.laneWidth
        // Vehicles keep clear of the travel lane: wide ones stand partly on the curb.
        func lateral(_ parts: [Primitive]) -> Double {
            let half = parts.map { abs($0.cy) + $0.hy }.max() ?? 1
            return s * (lanesEdge + max(street.parkingWidth / 2 + 0.1, half + 0.2))
        }
        var x = x0 + rng.uniform(0.3, 2)
        while x < x1 - 4 {
            if rng.chance(0.65) {
                let kind = rng.pick([("car", 0.95), ("truck", 0.015), ("other", 0.015), ("moto", 0.02)])
                let yaw = (side < 0 ? 0 : Double.pi) + rng.uniform(-0.04, 0.04)
                switch kind {
                case "truck", "other":
                    let (parts, len) = kind == "truck" ? truck(instance: instance())
                                                       : otherVehicle(instance: instance())
                    if x + len > x1 { return }
                    let y = lateral(parts)
                    statics.append(contentsOf: parts.map { $0.placed(x: x + len / 2, y: y, cosYaw: cos(yaw), sinYaw: sin(yaw)) })
                    x += len + rng.uniform(0.8, 2.5)
                    continue
                case "moto":
                    let y = s * (lanesEdge + street.parkingWidth - 0.6)
                    statics.append(contentsOf: motorcycle(instance: instance()).map { $0.placed(x: x + 1, y: y, cosYaw: cos(yaw + 0.3), sinYaw: sin(yaw + 0.3)) })
                    x += 2.4
                    continue
                default:
                    let (parts, len) = car(instance: instance(), label: .car)
                    let py = lateral(parts) + s * rng.uniform(0, 0.2)
                    statics.append(contentsOf: parts.map { $0.placed(x: x + len / 2, y: py, cosYaw: cos(yaw), sinYaw: sin(yaw)) })
                    x += len + rng.uniform(0.6, 2.5)
                }
            } else {
                x += rng.uniform(4, 7)
            }
        }
    }

    /// A parked vehicle centred at (x, y): mostly cars, sometimes a van, truck or motorcycle.
    private mutating func parkVehicle(x: Double, y: Double, yaw: Double, mix: Bool) {
        let c = cos(yaw), s = sin(yaw)
        let kind = mix ? rng.pick([(0, 0.94), (1, 0.02), (2, 0.04)]) : 0
        switch kind {
        case 1: statics.append(contentsOf: motorcycle(instance: instance()).map { $0.placed(x: x, y: y, cosYaw: c, sinYaw: s) })
        case 2:
            let (parts, _) = otherVehicle(instance: instance())
            statics.append(contentsOf: parts.map { $0.placed(x: x, y: y, cosYaw: c, sinYaw: s) })
        default:
            let (parts, _) = car(instance: instance(), label: .car)
            statics.append(contentsOf: parts.map { $0.placed(x: x, y: y, cosYaw: c, sinYaw: s) })
        }
    }

    // MARK: - Along the curb

    private mutating func curbFurniture(side: Int) {
        let s = Double(side)
        let curb = street.roadHalf
        // Street lamps.
        stream(30, side: side)
        var x = xStart + rng.uniform(0, 30)
        let lampSpacing = rng.uniform(22, 40)
        while x < xEnd {
            if !crossingAt(x, side: side, margin: 1) { lamp(x: x, side: side) }
            x += lampSpacing + rng.uniform(-3, 3)
        }
        // Traffic signs, more near cross streets.
        stream(31, side: side)
        x = xStart + rng.uniform(0, 40)
        while x < xEnd {
            if !crossingAt(x, side: side, margin: 1) { sign(x: x, y: s * (curb + rng.uniform(0.3, 0.8)), facing: -s) }
            x += rng.uniform(25, 90)
        }
        stream(32, side: side)
        for c in street.crossings where (c.side == 0 || c.side == side) && c.x0 < xEnd {
            sign(x: c.x0 - rng.uniform(1, 3), y: s * (curb + 0.5), facing: -s)
            if rng.chance(0.5) { sign(x: c.x1 + rng.uniform(1, 3), y: s * (curb + 0.5), facing: -s) }
        }
        // Tree alleys.
        stream(33, side: side)
        for (a, b) in openIntervals(xStart, extent, side: side) where a < xEnd {
            var x = a
            while x < min(b, xEnd) {
                let len = rng.uniform(30, 120)
                if rng.chance(0.6) {
                    let spacing = rng.uniform(8, 16)
                    var t = x + rng.uniform(1, spacing)
                    while t < min(b, x + len) - 1 {
                        tree(x: t, y: s * (curb + rng.uniform(0.7, 1.1)), size: rng.uniform(0.6, 1.1))
                        t += spacing + rng.uniform(-1, 1)
                    }
                }
                x += len
            }
        }
    }

    private mutating func lamp(x: Double, side: Int) {
        let s = Double(side)
        let y = s * (street.roadHalf + 0.4)
        let height = rng.uniform(6, 9)
        let m = Material(.pole, kind: .lampPost, remission: Float(rng.uniform(0.25, 0.5)), spread: 0.1)
        statics.append(.cylinder(x: x, y: y, radius: rng.uniform(0.07, 0.12), z0: 0, z1: height, m))
        if rng.chance(0.7) {  // an arm over the road with the lamp head
            let arm = rng.uniform(1, 2.5)
            statics.append(.box(x: x, y: y - s * arm / 2, z0: height - 0.1, size: (0.1, arm, 0.1), m))
            statics.append(.box(x: x, y: y - s * arm, z0: height - 0.3, size: (0.35, 0.6, 0.25), m))
        }
    }

    /// A sign post with one or two plates; `plates` and `plateYaw` fix what is otherwise drawn.
    private mutating func sign(x: Double, y: Double, facing: Double, plates given: Int? = nil, plateYaw: Double? = nil) {
        let height = rng.uniform(2.2, 3.2)
        statics.append(.cylinder(x: x, y: y, radius: rng.uniform(0.03, 0.06), z0: 0, z1: height, Material(.pole, kind: .signPost, remission: 0.4, spread: 0.1)))
        let plates = given ?? rng.pick([(1, 0.7), (2, 0.3)])
        var top = height
        for _ in 0 ..< plates {
            let w = rng.uniform(0.5, 0.9), h = rng.uniform(0.45, 0.9)
            let m = Material(.trafficSign, remission: Float(rng.uniform(0.6, 0.95)), spread: 0.06)
            // The plate faces traffic (its thin side along x), or the side street sometimes.
            let yaw = plateYaw ?? (rng.chance(0.8) ? 0 : Double.pi / 2)
            statics.append(.box(x: x + 0.06, y: y, z0: top - h, size: (0.04, w, h), yaw: yaw, m))
            top -= h + 0.05
        }
    }

    // MARK: - Vegetation and fences

    private mutating func tree(x: Double, y: Double, size: Double = 1) {
        let scale = size * rng.uniform(0.6, 1.4)
        let trunkHeight = rng.uniform(1.0, 2.6) * max(scale, 0.7)
        let radius = rng.uniform(1.6, 4) * scale
        let tall = rng.uniform(1.5, 4) * scale
        statics.append(.cylinder(x: x, y: y, radius: rng.uniform(0.08, 0.22) * max(scale, 0.6), z0: 0, z1: trunkHeight + tall * 0.6,
                                 Material(.trunk, remission: Float(rng.uniform(0.25, 0.45)), spread: 0.1)))
        let canopy = Material(.vegetation, kind: .crown, remission: Float(rng.uniform(0.25, 0.45)), spread: 0.13, passThrough: 0.18, penetration: 0.25)
        statics.append(.ellipsoid(x: x, y: y, z: trunkHeight + tall * 0.85, radii: (radius, radius * rng.uniform(0.8, 1.1), tall), yaw: rng.uniform(0, 3), canopy))
        if rng.chance(0.4) {  // a second lobe makes crowns irregular
            let r2 = radius * rng.uniform(0.5, 0.8)
            statics.append(.ellipsoid(x: x + rng.uniform(-1, 1) * radius * 0.5, y: y + rng.uniform(-1, 1) * radius * 0.5,
                                      z: trunkHeight + tall * rng.uniform(1.1, 1.6), radii: (r2, r2, tall * 0.7), canopy))
        }
    }

    private mutating func bush(x: Double, y: Double) {
        let r = rng.uniform(0.4, 1.8)
        statics.append(.ellipsoid(x: x, y: y, z: r * 0.4, radii: (r * rng.uniform(0.8, 1.6), r, r * rng.uniform(0.6, 1)), yaw: rng.uniform(0, 3),
                                  Material(.vegetation, kind: .bush, remission: Float(rng.uniform(0.28, 0.42)), spread: 0.13, passThrough: 0.1, penetration: 0.15)))
    }

    /// A row of overlapping bushes.
    private mutating func shrubBelt(_ x0: Double, _ x1: Double, y: Double) {
        var x = x0 + rng.uniform(0, 2)
        while x < x1 {
            bush(x: x, y: y + rng.uniform(-0.5, 0.5))
            x += rng.uniform(0.8, 2.5)
        }
    }

    private mutating func hedge(_ x0: Double, _ x1: Double, y: Double) {
        let height = rng.uniform(0.8, 2.2), depth = rng.uniform(0.6, 1.4)
        let m = Material(.vegetation, kind: .hedge, remission: Float(rng.uniform(0.28, 0.4)), spread: 0.13, passThrough: 0.05, penetration: 0.15)
        var x = x0
        while x < x1 - 0.5 {
            let len = min(rng.uniform(6, 15), x1 - x)
            statics.append(.box(x: x + len / 2, y: y, size: (len, depth, height * rng.uniform(0.9, 1.1)), m))
            x += len + (rng.chance(0.2) ? rng.uniform(1, 3) : 0)
        }
    }

    /// A fence in segments of at most 15 m: a see-through mesh half the time unless `mesh` is given.
    private mutating func fence(_ x0: Double, _ x1: Double, y: Double, mesh given: Bool? = nil, heights: ClosedRange<Double> = 0.8 ... 1.7) {
        let mesh = given ?? rng.chance(0.5)
        let height = rng.uniform(heights.lowerBound, heights.upperBound)
        let m = Material(.fence, kind: mesh ? .meshFence : .solidFence, remission: Float(rng.uniform(0.2, 0.45)), spread: 0.1, passThrough: mesh ? 0.45 : 0)
        var x = x0
        while x < x1 - 0.5 {
            let len = min(15, x1 - x)
            statics.append(.box(x: x + len / 2, y: y, size: (len, 0.05, height), m))
            x += len
        }
    }

    // MARK: - Far background

    private mutating func background(side: Int) {
        let s = Double(side)
        var x = xStart
        while x < xEnd {
            let len = rng.uniform(12, 40)
            let dist = street.sidewalkOuter + rng.uniform(28, 70)
            if !crossingAt(x + len / 2, side: side, margin: 6) {
                if rng.chance(0.35 + 0.5 * urban) {
                    statics.append(.box(x: x + len / 2, y: s * (dist + 6), size: (len, 12, rng.uniform(6, 25)), buildingMaterial(.farBlock)))
                } else {
                    for _ in 0 ..< Int(len / 5) { tree(x: rng.uniform(x, x + len), y: s * (dist + rng.uniform(0, 10)), size: 1.2) }
                }
            }
            x += len + rng.uniform(2, 15)
        }
    }

    // MARK: - Objects

    /// A car: body and cabin (glass lets some rays through), heading +x, centred on the origin;
    /// its type drawn from `SynthKind.carTypes` unless given. An estate's cabin runs to the rear.
    private mutating func car(instance: UInt16, label: SynthClass, type given: SynthKind? = nil) -> ([Primitive], Double) {
        let type = given ?? rng.pick(SynthKind.carTypes)
        let (len, width, height): (Double, Double, Double) = switch type {
        case .hatchback: (rng.uniform(3.6, 4.1), rng.uniform(1.65, 1.78), rng.uniform(1.4, 1.55))
        case .sedan: (rng.uniform(4.3, 4.9), rng.uniform(1.75, 1.85), rng.uniform(1.4, 1.5))
        case .estate: (rng.uniform(4.5, 4.9), rng.uniform(1.8, 1.95), rng.uniform(1.5, 1.8))
        default: (rng.uniform(4.8, 5.4), rng.uniform(1.9, 2.0), rng.uniform(1.9, 2.2))
        }
        let paint = Float(rng.pick([(0.02, 0.35), (0.08, 0.3), (0.2, 0.2), (0.4, 0.15)]))
        let body = Material(label, instance: instance, kind: type, remission: paint, spread: 0.07)
        let glass = Material(label, instance: instance, kind: type, remission: paint * 0.5, spread: 0.05, passThrough: 0.3)
        let belt = type == .van ? height * 0.45 : height * 0.6
        let cabinLength = switch type {
        case .van: len * 0.85
        case .estate: len * rng.uniform(0.62, 0.7)
        default: len * rng.uniform(0.5, 0.6)
        }
        let cabinX = switch type {
        case .van: -len * 0.05
        case .estate: -(len - cabinLength) / 2 + 0.15
        default: -len * 0.06
        }
        return ([
            .box(x: 0, y: 0, z0: 0.15, size: (len, width, belt - 0.15), body),
            .box(x: cabinX, y: 0, z0: belt, size: (cabinLength, width - 0.12, height - belt), glass),
        ], len)
    }

    /// A truck's parts and its length (cab and cargo box).
    private mutating func truck(instance: UInt16) -> ([Primitive], Double) {
        let cargo = rng.uniform(4.5, 8), width = rng.uniform(2.3, 2.55), height = rng.uniform(3, 3.8)
        let m = Material(.truck, instance: instance, remission: Float(rng.uniform(0.15, 0.5)), spread: 0.12)
        let parts: [Primitive] = [
            .box(x: cargo / 2 + 1.1, y: 0, z0: 0.4, size: (2.2, width, rng.uniform(2.6, 3.1)), m),
            .box(x: 0, y: 0, z0: 0.9, size: (cargo, width, height - 0.9), m),
            .box(x: 0.5, y: 0, z0: 0.3, size: (cargo + 1, width * 0.7, 0.6), m),
        ]
        return (parts, parts.map { $0.cx + $0.hx }.max()! - parts.map { $0.cx - $0.hx }.min()!)
    }

    /// SemanticKITTI's "other-vehicle": a caravan or trailer (parked ones), or a bus.
    private mutating func otherVehicle(instance: UInt16, kind: SynthKind = .caravan) -> ([Primitive], Double) {
        let remission = Float(rng.uniform(0.15, 0.55))
        if kind == .caravan {
            let m = Material(.otherVehicle, instance: instance, kind: .caravan, remission: remission, spread: 0.12)
            let len = rng.uniform(3.5, 6.5)
            return ([.box(x: 0, y: 0, z0: 0.35, size: (len, rng.uniform(1.9, 2.4), rng.uniform(1.6, 2.6)), m)], len)
        }
        let m = Material(.otherVehicle, instance: instance, kind: .bus, remission: remission, spread: 0.12)
        let len = rng.uniform(10, 12.5)
        return ([.box(x: 0, y: 0, z0: 0.3, size: (len, 2.55, rng.uniform(2.7, 3.1)), m)], len)
    }

    private mutating func motorcycle(instance: UInt16, label: SynthClass = .motorcycle) -> [Primitive] {
        let m = Material(label, instance: instance, remission: Float(rng.uniform(0.1, 0.5)), spread: 0.15)
        return [
            .box(x: 0, y: 0, z0: 0.05, size: (rng.uniform(1.8, 2.2), 0.18, 0.6), m),
            .box(x: 0.1, y: 0, z0: 0.5, size: (1.1, 0.45, 0.5), m),
        ]
    }

    /// A bicycle standing upright: a see-through frame and handlebars.
    private mutating func bicycle(instance: UInt16, label: SynthClass = .bicycle, kind: SynthKind? = nil) -> [Primitive] {
        let m = Material(label, instance: instance, kind: kind, remission: Float(rng.uniform(0.1, 0.5)), spread: 0.15, passThrough: 0.35)
        let len = rng.uniform(1.6, 1.85)
        return [
            .box(x: 0, y: 0, z0: 0.02, size: (len, 0.06, 0.95), m),
            .box(x: len * 0.35, y: 0, z0: 0.95, size: (0.06, 0.6, 0.08), m),
        ]
    }

    private mutating func parkedBicycles(x: Double, side: Int) {
        let s = Double(side)
        let y = s * (street.sidewalkOuter - 0.6)
        let n = rng.pick([(1, 0.5), (2, 0.3), (4, 0.2)])
        let across = rng.chance(0.5)
        for i in 0 ..< n {
            let yaw = across ? Double.pi / 2 + rng.uniform(-0.1, 0.1) : rng.uniform(-0.1, 0.1)
            statics.append(contentsOf: bicycle(instance: instance(), kind: n == 1 ? .singleBicycle : .bicycleRow).map {
                $0.placed(x: x + Double(i) * (across ? 0.7 : 1.9), y: y, cosYaw: cos(yaw), sinYaw: sin(yaw))
            })
        }
    }

    /// A person: legs, torso and head, facing +x.
    private mutating func person(height: Double, instance: UInt16, label: SynthClass = .person, kind: SynthKind? = nil, z0: Double = 0) -> [Primitive] {
        let m = Material(label, instance: instance, kind: kind, remission: Float(rng.uniform(0.1, 0.45)), spread: 0.12)
        let skin = Material(label, instance: instance, kind: kind, remission: 0.35, spread: 0.08)
        if kind == .sitting {  // on the ground or a low wall: thighs forward, a shorter torso
            let seat = 0.45
            return [
                .box(x: 0.05, y: 0, z0: 0, size: (0.2, 0.34, seat), m),
                .box(x: 0.25, y: 0, z0: seat - 0.15, size: (0.45, 0.34, 0.15), m),
                .ellipsoid(x: 0, y: 0, z: seat + height * 0.17, radii: (0.15, 0.24, height * 0.19), m),
                .ellipsoid(x: 0, y: 0, z: seat + height * 0.4, radii: (0.1, 0.09, 0.12), skin),
            ]
        }
        let legs = height * 0.47
        return [
            .box(x: 0, y: 0, z0: z0, size: (0.25, 0.34, legs), m),
            .ellipsoid(x: 0, y: 0, z: z0 + legs + height * 0.18, radii: (0.15, 0.24, height * 0.2), m),
            .ellipsoid(x: 0, y: 0, z: z0 + height - 0.11, radii: (0.1, 0.09, 0.12), skin),
        ]
    }

    private mutating func bicyclist(instance: UInt16) -> [Primitive] {
        // SemanticKITTI labels the rider and the bicycle under them together as "bicyclist".
        bicycle(instance: instance, label: .bicyclist) + person(height: rng.uniform(1.0, 1.2), instance: instance, label: .bicyclist, z0: 0.55)
    }

    private mutating func motorcyclist(instance: UInt16) -> [Primitive] {
        // Rider and machine are one "motorcyclist", as for bicyclists.
        motorcycle(instance: instance, label: .motorcyclist) + person(height: rng.uniform(1.0, 1.15), instance: instance, label: .motorcyclist, z0: 0.5)
    }

    // MARK: - Movers

    private mutating func pedestrians(side: Int) {
        let s = Double(side)
        // Walkers and riders, spaced along the street up to where they could still meet the sensor.
        phase(5, side: side)
        let walkerGap = 100 / rng.uniform(0.3, 1.2)
        var x = xStart + rng.uniform(0, walkerGap)
        while x < xEnd + 2 * duration {
            let parts = person(height: rng.uniform(1.45, 1.95), instance: instance(), kind: .walking)
            let y = s * (street.roadHalf + street.sidewalkWidth * rng.uniform(0.45, 0.85))
            movers.append(Mover(parts: parts, y: y, x0: x, speed: rng.uniform(0.8, 1.6) * (rng.chance(0.5) ? 1 : -1), followsEgo: false))
            x += walkerGap * rng.uniform(0.1, 1.9)
        }
        phase(7, side: side)
        let riderGap = 100 / rng.uniform(0.1, 0.5)
        x = xStart + rng.uniform(0, riderGap)
        while x < xEnd + 7 * duration {
            let parts = bicyclist(instance: instance())
            let y = s * (street.roadHalf + street.sidewalkWidth * rng.uniform(0.3, 0.5))
            movers.append(Mover(parts: parts, y: y, x0: x, speed: rng.uniform(3, 6.5) * (rng.chance(0.5) ? 1 : -1), followsEgo: false))
            x += riderGap * rng.uniform(0.1, 1.9)
        }
    }

    private mutating func traffic() {
        stream(6)
        let density = rng.uniform(0.5, 1.5)
        for side in [-1, 1] {
            let direction = side < 0 ? 1.0 : -1.0
            for lane in 0 ..< street.lanes {
                phase(20 + UInt64(lane), side: side)
                let y = street.laneCenter(lane, side: side)
                if side < 0, lane == street.lanes - 1 {
                    // The sensor car's lane: a car ahead and one behind keep their distance.
                    if rng.chance(0.35) {
                        let (parts, _) = car(instance: instance(), label: .movingCar)
                        movers.append(Mover(parts: parts, y: y, x0: rng.uniform(14, 45), speed: 1, followsEgo: true))
                    }
                    if rng.chance(0.2) {
                        let (parts, _) = car(instance: instance(), label: .movingCar)
                        movers.append(Mover(parts: parts, y: y, x0: -rng.uniform(14, 40), speed: 1, followsEgo: true))
                    }
                    continue
                }
                let speed = direction * rng.uniform(7, 14)
                var x = xStart - 150
                while x < xEnd + 150 + 15 * duration {
                    let (parts, len) = car(instance: instance(), label: .movingCar)
                    movers.append(Mover(parts: parts, y: y + rng.uniform(-0.2, 0.2), x0: x, speed: speed, followsEgo: false))
                    x += len + rng.uniform(30, 250) / density
                }
            }
        }
    }

    // MARK: - Motorcyclists and refuge islands

    /// Motorcyclists and buses in the travel lanes (not the sensor car's): rare, as in KITTI.
    private mutating func riders() {
        for side in [-1, 1] {
            phase(8, side: side)
            let direction = side < 0 ? 1.0 : -1.0
            let gap = 100 / rng.uniform(0.05, 0.2)
            var x = xStart - 150 + rng.uniform(0, gap)
            while x < xEnd + 150 + 15 * duration {
                let lane = rng.int(0 ... street.lanes - 1)
                if !(side < 0 && lane == street.lanes - 1) {
                    movers.append(Mover(parts: motorcyclist(instance: instance()), y: street.laneCenter(lane, side: side) + rng.uniform(-0.5, 0.5),
                                        x0: x, speed: direction * rng.uniform(8, 14), followsEgo: false))
                }
                x += gap * rng.uniform(0.3, 1.7)
            }
            // Buses in the outer lane, as rare.
            let busGap = 100 / rng.uniform(0.05, 0.15)
            x = xStart - 150 + rng.uniform(0, busGap)
            while x < xEnd + 150 + 15 * duration {
                if side > 0 || street.lanes > 1 {
                    let lane = side > 0 ? street.lanes - 1 : 0
                    let (parts, _) = otherVehicle(instance: instance(), kind: .bus)
                    movers.append(Mover(parts: parts, y: street.laneCenter(lane, side: side), x0: x, speed: direction * rng.uniform(7, 12), followsEgo: false))
                }
                x += busGap * rng.uniform(0.3, 1.7)
            }
        }
    }

    /// Pedestrian refuges on the centre line beside some zebra crossings: SemanticKITTI's
    /// "other-ground" (raised islands, neither road nor sidewalk).
    private mutating func islands() {
        for zebra in street.zebras where rng.chance(0.5) {
            islandStrip(x0: zebra + 4.5, length: rng.uniform(4, 10))
        }
    }

    private mutating func islandStrip(x0: Double, length: Double) {
        let width = min(1.2, street.laneWidth * 0.35)
        statics.append(.box(x: x0 + length / 2, y: 0, size: (length, width, street.curbHeight), Material(.otherGround, remission: 0.37, spread: 0.08)))
    }

    // MARK: - Staged exhibits (validation sequences)

    /// Every class and kind placed on purpose where the sensor passes, so that a short
    /// validation sequence holds enough points of each to measure: an exhibit every 160 m of the
    /// drive, the first where it starts. Within an exhibit's stretch (25 m behind the start to 35 m
    /// after it, out to 20 m beyond the sidewalks) the generated furniture, buildings and parked
    /// vehicles give way; ground, sidewalks and traffic stay. Beyond `SynthKind.farRange` ahead
    /// and behind stand the far cars and people.
    private mutating func stage() {
        phase(90)  // one range of instance ids for all exhibits (it wraps after 4095)
        var x0 = 0.0
        var index: UInt64 = 0
        while x0 < max(xEnd - 110, 1) {
            stream(91 + index)
            exhibit(at: x0)
            x0 += 160
            index += 1
        }
    }

    private mutating func exhibit(at x0: Double) {
        let outer = street.sidewalkOuter
        let keep: Set<UInt16> = [SynthClass.sidewalk.rawValue, SynthClass.otherGround.rawValue]
        func inStretch(_ p: Primitive, _ a: Double, _ b: Double) -> Bool {
            p.cx > a && p.cx < b && abs(p.cy) > street.roadHalf - 0.5 && abs(p.cy) < outer + 20 && !keep.contains(p.material.label)
        }
        statics.removeAll { inStretch($0, x0 - 25, x0 + 35) || inStretch($0, x0 + 38, x0 + 62) || inStretch($0, x0 - 48, x0 - 33) }
        street.bays.removeAll { $0.x1 > x0 - 25 && $0.x0 < x0 + 35 }
        street.lots.removeAll { $0.x1 > x0 - 25 && $0.x0 < x0 + 35 }
        if street.parkingWidth > 0 { street.bays.append(StreetInterval(x0: x0 - 20, x1: x0 + 30, side: 0)) }
        // Parking-lot ground under the vehicle rows on both sides, as the generated streets park
        // cars off the street.
        for side in [-1.0, 1.0] {
            street.lots.append(GroundRect(x0: x0 - 23, x1: x0 + 36, y0: side > 0 ? outer + 0.5 : -(outer + 5), y1: side > 0 ? outer + 5 : -(outer + 0.5)))
        }
        street.zebras.append(x0 + 14)
        islandStrip(x0: x0 + 18.5, length: 10)
        islandStrip(x0: x0 - 14, length: 10)

        func place(_ parts: [Primitive], x: Double, y: Double, yaw: Double = 0) {
            statics.append(contentsOf: parts.map { $0.placed(x: x, y: y, cosYaw: cos(yaw), sinYaw: sin(yaw)) })
        }
        for side in [-1, 1] {
            let s = Double(side)
            let walk = s * (street.roadHalf + street.sidewalkWidth * 0.55)
            // People and riders on the sidewalk.
            for (i, kind) in [SynthKind.walking, .standing, .child, .walking].enumerated() {
                let height = kind == .child ? rng.uniform(1.0, 1.3) : rng.uniform(1.5, 1.9)
                place(person(height: height, instance: instance(), kind: kind), x: x0 - 12 + Double(i) * 7 + rng.uniform(-0.5, 0.5), y: walk, yaw: rng.uniform(0, 2 * .pi))
            }
            place(bicyclist(instance: instance()), x: x0 + 18, y: walk, yaw: side < 0 ? 0 : .pi)
            place(bicyclist(instance: instance()), x: x0 - 15, y: walk, yaw: side < 0 ? .pi : 0)
            place(motorcyclist(instance: instance()), x: x0 + 23, y: walk, yaw: side < 0 ? 0 : .pi)
            place(motorcyclist(instance: instance()), x: x0 - 20, y: walk, yaw: side < 0 ? .pi : 0)
            // People sitting at the sidewalk's outer edge, between the others.
            for k in 0 ..< 3 {
                place(person(height: rng.uniform(1.2, 1.8), instance: instance(), kind: .sitting), x: x0 - 9.5 + Double(k) * 10,
                      y: s * (outer - 0.45), yaw: side < 0 ? .pi / 2 : -.pi / 2)
            }
            for tx in [x0 - 9, x0 + 16] { tree(x: tx, y: s * (street.roadHalf + 0.9), size: 0.8) }
            place(bicycle(instance: instance(), kind: .singleBicycle), x: x0 - 17.5, y: walk)
            place(bicycle(instance: instance(), kind: .singleBicycle), x: x0 + 33, y: walk, yaw: 0.3)
            place(bicycle(instance: instance(), kind: .singleBicycle), x: x0 - 4.5, y: walk, yaw: -0.3)
            for k in 0 ..< 4 { place(bicycle(instance: instance(), kind: .bicycleRow), x: x0 + 27 + Double(k) * 0.7, y: walk, yaw: .pi / 2) }

            // Vehicles in a row behind the sidewalk: every car type, and the rarer vehicles.
            let row = s * (outer + 2.5)
            var x = x0 - 22.0
            if side < 0 {  // a truck at the head of the near row
                let (parts, len) = truck(instance: instance())
                place(parts, x: x + len / 2, y: row + s * 0.5)
                x += len + 1.2
            }
            let types: [SynthKind] = side < 0 ? [.hatchback, .sedan, .estate, .van] : [.van, .estate, .sedan, .hatchback]
            for type in types {
                let (parts, len) = car(instance: instance(), label: .car, type: type)
                place(parts, x: x + len / 2, y: row)
                x += len + 1.2
            }
            place(motorcycle(instance: instance()), x: x + 1, y: row)
            // The big rare vehicles farther along, where they take fewer of the exhibit's points.
            x = max(x + 3, x0 + 22)
            let (other, otherLength) = otherVehicle(instance: instance(), kind: side < 0 ? .caravan : .bus)
            place(other, x: x + otherLength / 2, y: row + s * 0.5)

            // Behind the vehicles: fences, a hedge and bushes; at the curb posts; a mound.
            let back = s * (outer + 6.5)
            fence(x0 - 22, x0 - 10, y: back, mesh: side < 0, heights: 1.0 ... 1.7)
            fence(x0 - 8, x0 + 2, y: back, mesh: side > 0, heights: 1.0 ... 1.7)
            hedge(x0 + 4, x0 + 14, y: back)
            for k in 0 ..< 3 { bush(x: x0 + 16 + Double(k) * 2.5, y: back) }
            lamp(x: x0 - 5, side: side)
            // Plates turned half towards the road, so the sensor sees their faces as it passes.
            sign(x: x0 + 8, y: s * (street.roadHalf + 0.5), facing: -s, plates: 2, plateYaw: -s * .pi / 4)
            sign(x: x0 + 24, y: s * (street.roadHalf + 0.5), facing: -s, plates: 2, plateYaw: -s * .pi / 4)
            sign(x: x0 - 16, y: s * (street.roadHalf + 0.5), facing: -s, plates: 2, plateYaw: s * .pi / 4)
            for mx in [x0 + 32, x0 - 29] {
                let r = rng.uniform(3.5, 4.5)
                statics.append(.ellipsoid(x: mx, y: s * (outer + 1 + r), z: 0, radii: (r, r * 0.8, 0.9), Street.mound))
            }

            // Trees, then buildings of each kind.
            for k in 0 ..< 3 { tree(x: x0 - 15 + Double(k) * 12, y: s * (outer + 11), size: 0.9) }
            statics.append(.box(x: x0 - 12, y: s * (outer + 16 + 5), size: (16, 10, rng.uniform(7, 12)), buildingMaterial(.facade)))
            statics.append(.box(x: x0 + 1, y: s * (outer + 15 + 3), size: (7, 6, 3.5), buildingMaterial(.annex)))
            statics.append(.box(x: x0 + 14, y: s * (outer + 17 + 5), size: (12, 10, rng.uniform(6, 9)), buildingMaterial(.backyardHouse)))
            statics.append(.box(x: x0 + 5, y: s * (outer + 34 + 6), size: (40, 12, rng.uniform(14, 22)), buildingMaterial(.farBlock)))

            // Far cars and people, ahead and behind.
            for (k, fx) in [x0 + 42, x0 + 52].enumerated() {
                let (parts, len) = car(instance: instance(), label: .car, type: SynthKind.carTypes[k + (side < 0 ? 0 : 2)].0)
                place(parts, x: fx + len / 2, y: row)
            }
            let (behind, behindLength) = car(instance: instance(), label: .car)
            place(behind, x: x0 - 40 + behindLength / 2, y: row)
            for fx in [x0 + 40, x0 + 44, x0 + 48, x0 + 52, x0 + 56, x0 + 60, x0 - 36, x0 - 40, x0 - 44] {
                place(person(height: rng.uniform(1.5, 1.9), instance: instance(), kind: .standing), x: fx, y: walk, yaw: rng.uniform(0, 2 * .pi))
            }
        }
    }
}
