import Foundation

/// An interval along the street (world x), on one side or both.
struct StreetInterval: Sendable {
    var x0: Double, x1: Double
    /// +1 the left side (y > 0), -1 the right side, 0 both.
    var side: Int

    func contains(_ x: Double, side s: Int) -> Bool { x >= x0 && x <= x1 && (side == 0 || side == s) }
}

/// An axis-aligned rectangle of the ground plane.
struct GroundRect: Sendable {
    var x0: Double, x1: Double, y0: Double, y1: Double
    func contains(_ x: Double, _ y: Double) -> Bool { x >= x0 && x <= x1 && y >= y0 && y <= y1 }
}

/// The ground of a straight street along world x: the road plane z = 0 with its paint, parking
/// strips and lots, cross streets, and terrain beyond. (Sidewalks are raised slabs: primitives.)
struct Street: Sendable {
    var laneWidth: Double
    /// Travel lanes per direction.
    var lanes: Int
    /// Width of the strip between the outer travel lane and the curb (parking where marked).
    var parkingWidth: Double
    var sidewalkWidth: Double
    var curbHeight: Double
    /// Cross streets: the road surface continues sideways over [x0, x1].
    var crossings: [StreetInterval] = []
    /// Marked parking bays in the curb strip.
    var bays: [StreetInterval] = []
    /// Parking lots beside the street.
    var lots: [GroundRect] = []
    /// Zebra crossings: x of their near edge (4 m wide).
    var zebras: [Double] = []
    /// Lane-divider dashes: 3 m of paint every 9 m.
    var dashPeriod = 9.0, dashLength = 3.0
    var lineWidth = 0.1

    /// Half width of the paved road, curb to curb.
    var roadHalf: Double { Double(lanes) * laneWidth + parkingWidth }
    /// Distance of the outer edge of the sidewalks from the road's centre line.
    var sidewalkOuter: Double { roadHalf + sidewalkWidth }

    /// Lateral position of the centre of travel lane `k` (0 innermost) on side `side`.
    func laneCenter(_ k: Int, side: Int) -> Double { Double(side) * (Double(k) + 0.5) * laneWidth }

    /// The surface of the ground plane at `(x, y)`: its label and remission.
    func ground(x: Double, y: Double, near: NearbyStreet) -> Material {
        let ay = abs(y)
        let side = y >= 0 ? 1 : -1
        if ay < roadHalf {
            for z in near.zebras where x >= z && x <= z + 4 {
                if (ay + 0.25).truncatingRemainder(dividingBy: 1.0) < 0.5, ay < roadHalf - 0.3 { return Street.marking }
                return Street.road
            }
            let lanesEdge = Double(lanes) * laneWidth
            if ay > lanesEdge + lineWidth / 2 {
                for bay in near.bays where bay.contains(x, side: side) { return Street.parking }
                return Street.road
            }
            // Centre line: solid; lane dividers: dashed; edge line: solid except at cross streets.
            if ay < lineWidth { return Street.marking }
            for k in 1 ..< max(lanes, 1) where abs(ay - Double(k) * laneWidth) < lineWidth / 2 {
                let phase = (x - floor(x / dashPeriod) * dashPeriod)
                return phase < dashLength ? Street.marking : Street.road
            }
            if parkingWidth > 0, abs(ay - lanesEdge) < lineWidth / 2 {
                for c in near.crossings where c.contains(x, side: side) { return Street.road }
                return Street.marking
            }
            return Street.road
        }
        for c in near.crossings where c.contains(x, side: side) { return Street.road }
        for lot in near.lots where lot.contains(x, y) { return Street.parking }
        return Street.terrain
    }

    // Ground remission at normal incidence, so that the near ground reads as in real scans
    // (road 0.27, parking and sidewalk 0.32, terrain 0.37 at 5-20 m; `RayCaster.response`).
    // Paving and grass are rough: beyond 20 m, where the ray grazes the ground, real parking,
    // sidewalk and terrain keep reading 0.27-0.32 while road falls to 0.17.
    static let road = Material(.road, remission: 0.35, spread: 0.09)
    static let marking = Material(.laneMarking, remission: 0.72, spread: 0.12)
    static let parking = Material(.parking, remission: 0.41, spread: 0.09, roughness: 0.08)
    /// The top of the sidewalks' kerbed boxes.
    static let sidewalk = Material(.sidewalk, remission: 0.41, spread: 0.08, roughness: 0.08)
    static let terrain = Material(.terrain, kind: .ground, remission: 0.5, spread: 0.11, roughness: 0.1)
    /// Grass mounds: the terrain's rarer kind.
    static let mound = Material(.terrain, kind: .mound, remission: 0.5, spread: 0.11, roughness: 0.1)

    /// The street's features within `radius` of `x`, for quick lookups during one scan.
    func nearby(x: Double, radius: Double) -> NearbyStreet {
        func near(_ i: StreetInterval) -> Bool { i.x1 >= x - radius && i.x0 <= x + radius }
        return NearbyStreet(
            crossings: crossings.filter(near), bays: bays.filter(near),
            lots: lots.filter { $0.x1 >= x - radius && $0.x0 <= x + radius },
            zebras: zebras.filter { $0 + 4 >= x - radius && $0 <= x + radius }
        )
    }
}

struct NearbyStreet: Sendable {
    var crossings: [StreetInterval]
    var bays: [StreetInterval]
    var lots: [GroundRect]
    var zebras: [Double]
}

/// The sensor car's smooth drive along the street: speed and lateral position oscillate slowly.
struct Trajectory: Sendable {
    /// The fastest the sensor car drives, m/s (`speed + speedSwing` stays below it).
    static let maxSpeed = 12.0
    var speed: Double
    var speedSwing: Double
    var speedRate: Double
    var speedPhase: Double
    var lane: Double
    var wiggle: Double
    var wiggleRate: Double
    var wigglePhase: Double

    /// Position (x, y) and heading of the sensor at time `t` seconds.
    func state(at t: Double) -> (x: Double, y: Double, yaw: Double) {
        let x = speed * t + speedSwing / speedRate * (sin(speedRate * t + speedPhase) - sin(speedPhase))
        let y = lane + wiggle * sin(wiggleRate * t + wigglePhase)
        let vx = speed + speedSwing * cos(speedRate * t + speedPhase)
        let vy = wiggle * wiggleRate * cos(wiggleRate * t + wigglePhase)
        return (x, y, atan2(vy, vx))
    }
}

/// A thing that moves along the street: a car in traffic, a pedestrian, a bicyclist.
struct Mover: Sendable {
    /// The object in its own frame (heading +x, standing on z = 0).
    var parts: [Primitive]
    var y: Double
    var x0: Double
    /// Signed speed along x, m/s.
    var speed: Double
    /// Keeps its distance `x0` to the sensor car (a car ahead or behind in its lane).
    var followsEgo: Bool

    func parts(at t: Double, egoX: Double) -> [Primitive] {
        let x = followsEgo ? egoX + x0 : x0 + speed * t
        let c = speed >= 0 ? 1.0 : -1.0
        return parts.map { $0.placed(x: x, y: y, cosYaw: c, sinYaw: 0) }
    }
}

/// A generated world: the street, its static primitives (sorted by x), the movers and the
/// sensor car's drive.
struct Scene: Sendable {
    var street: Street
    var statics: [Primitive]
    /// The largest horizontal half-diagonal of a static primitive (for range queries).
    var maxStaticRadius: Double
    var movers: [Mover]
    var trajectory: Trajectory
    var instanceCount: Int
    /// Seeds the remission texture of the ground.
    var textureSeed: UInt64

    init(street: Street, statics: [Primitive], movers: [Mover], trajectory: Trajectory, instanceCount: Int, textureSeed: UInt64) {
        self.street = street
        self.textureSeed = textureSeed
        self.statics = statics.sorted { ($0.cx, $0.cy, $0.cz) < ($1.cx, $1.cy, $1.cz) }
        maxStaticRadius = statics.map { ($0.hx * $0.hx + $0.hy * $0.hy).squareRoot() }.max() ?? 0
        self.movers = movers
        self.trajectory = trajectory
        self.instanceCount = instanceCount
    }

    /// Static primitives whose centre lies within `x - radius ... x + radius` (binary search).
    func statics(nearX x: Double, radius: Double) -> ArraySlice<Primitive> {
        let lo = x - radius - maxStaticRadius, hi = x + radius + maxStaticRadius
        func lowerBound(_ v: Double) -> Int {
            var a = 0, b = statics.count
            while a < b {
                let m = (a + b) / 2
                if statics[m].cx < v { a = m + 1 } else { b = m }
            }
            return a
        }
        return statics[lowerBound(lo) ..< lowerBound(hi)]
    }
}
