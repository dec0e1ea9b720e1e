import SemanticKITTI

/// The kinds of appearance within a class that the simulator tells apart: its subclasses. Each
/// point's kind is written beside its label (`subclasses/NNNNNN.label`, one uint32 per point, 0
/// for a point of a class without kinds), and the kinds' names, classes and shares go to the
/// sequence's `subclasses.yaml` (`SubclassCatalog`).
///
/// Kinds are imbalanced on purpose, as in real streets: most parked cars are sedans and
/// hatchbacks, few are vans; most people walk, few sit. Distance is a kind of its own for cars and
/// people: beyond `farRange` they return a handful of points, a different appearance from the same
/// object near by. Moving cars (raw id 252) carry the car kinds.
public enum SynthKind: UInt16, CaseIterable, Sendable {
    case hatchback = 1, sedan, estate, van, farCar
    case singleBicycle = 6, bicycleRow
    case caravan = 8, bus
    case walking = 11, standing, sitting, child, farPerson
    case facade = 21, annex, backyardHouse, farBlock
    case solidFence = 25, meshFence
    case crown = 27, bush, hedge
    case ground = 30, mound
    case lampPost = 32, signPost

    /// Points of cars and people farther than this, in metres, are of the far kind.
    public static let farRange = 30.0

    /// The kind's name in `subclasses.yaml` and the tables.
    public var name: String {
        switch self {
        case .hatchback: "hatchback"
        case .sedan: "sedan"
        case .estate: "estate"
        case .van: "van"
        case .farCar: "far car"
        case .singleBicycle: "single bicycle"
        case .bicycleRow: "bicycle row"
        case .caravan: "caravan"
        case .bus: "bus"
        case .walking: "walking"
        case .standing: "standing"
        case .sitting: "sitting"
        case .child: "child"
        case .farPerson: "far person"
        case .facade: "facade"
        case .annex: "annex"
        case .backyardHouse: "backyard house"
        case .farBlock: "far block"
        case .solidFence: "solid fence"
        case .meshFence: "mesh fence"
        case .crown: "tree crown"
        case .bush: "bush"
        case .hedge: "hedge"
        case .ground: "ground"
        case .mound: "mound"
        case .lampPost: "lamp post"
        case .signPost: "sign post"
        }
    }

    /// The class the kind belongs to (its raw id is the kind's `class` in `subclasses.yaml`).
    public var synthClass: SynthClass {
        switch self {
        case .hatchback, .sedan, .estate, .van, .farCar: .car
        case .singleBicycle, .bicycleRow: .bicycle
        case .caravan, .bus: .otherVehicle
        case .walking, .standing, .sitting, .child, .farPerson: .person
        case .facade, .annex, .backyardHouse, .farBlock: .building
        case .solidFence, .meshFence: .fence
        case .crown, .bush, .hedge: .vegetation
        case .ground, .mound: .terrain
        case .lampPost, .signPost: .pole
        }
    }

    /// The raw label ids whose points may carry the kind (moving cars carry the car kinds).
    public var rawClasses: Set<UInt16> {
        synthClass == .car ? [SynthClass.car.rawValue, SynthClass.movingCar.rawValue] : [synthClass.rawValue]
    }

    /// The kind a point of kind `self` has at `range` metres: the far kind of its class beyond
    /// `farRange` for cars and people, itself otherwise.
    func seen(at range: Double) -> SynthKind {
        guard range > SynthKind.farRange else { return self }
        switch synthClass {
        case .car: return .farCar
        case .person: return .farPerson
        default: return self
        }
    }

    /// How often a parked car is of each type (the draw of `SceneGenerator`; the point shares in
    /// `subclasses.yaml` also depend on size and distance).
    static let carTypes: [(SynthKind, Double)] = [(.hatchback, 0.30), (.sedan, 0.45), (.estate, 0.20), (.van, 0.05)]

    /// One more than the largest kind id.
    static let idLimit = Int(SynthKind.allCases.map(\.rawValue).max()!) + 1

    /// Points per kind id (index 0: points without a kind).
    static func counts(_ kinds: [UInt32]) -> [Int] {
        var counts = [Int](repeating: 0, count: idLimit)
        for kind in kinds { counts[Int(kind)] += 1 }
        return counts
    }

    /// The catalog of `subclasses.yaml`: every kind with its share of its class's points (0 for a
    /// class without points; rounded to 4 decimals, as written), from points per kind id.
    static func catalog(counts: [Int]) -> SubclassCatalog {
        var perClass: [SynthClass: Int] = [:]
        for kind in allCases { perClass[kind.synthClass, default: 0] += counts[Int(kind.rawValue)] }
        return SubclassCatalog(kinds: allCases.map { kind in
            let total = perClass[kind.synthClass] ?? 0
            return SubclassCatalog.Kind(id: UInt32(kind.rawValue), name: kind.name, rawClass: UInt32(kind.synthClass.rawValue),
                                        share: total == 0 ? 0 : (Double(counts[Int(kind.rawValue)]) / Double(total) * 10000).rounded() / 10000)
        })
    }

    static let catalogComment = """
    Kinds of appearance written by rangeseg synth: subclasses/NNNNNN.label holds each point's kind
    id (0: a class without kinds). share: the kind's fraction of its class's points in this sequence.
    Cars and people beyond \(Int(farRange)) m are "far car" and "far person"; moving cars carry the car kinds.
    """
}
