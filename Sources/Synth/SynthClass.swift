/// The SemanticKITTI classes the simulator writes, by their raw label ids (the ids of the
/// official `semantic-kitti.yaml`, lower 16 bits of a `.label` entry).
public enum SynthClass: UInt16, CaseIterable, Sendable {
    case unlabeled = 0
    case outlier = 1
    case car = 10
    case bicycle = 11
    case motorcycle = 15
    case truck = 18
    case otherVehicle = 20
    case person = 30
    case bicyclist = 31
    case motorcyclist = 32
    case road = 40
    case parking = 44
    case sidewalk = 48
    case otherGround = 49
    case building = 50
    case fence = 51
    case laneMarking = 60
    case vegetation = 70
    case trunk = 71
    case terrain = 72
    case pole = 80
    case trafficSign = 81
    case movingCar = 252

    /// The class's name as in the official label config.
    public var name: String {
        switch self {
        case .unlabeled: "unlabeled"
        case .outlier: "outlier"
        case .car: "car"
        case .bicycle: "bicycle"
        case .motorcycle: "motorcycle"
        case .truck: "truck"
        case .otherVehicle: "other-vehicle"
        case .person: "person"
        case .bicyclist: "bicyclist"
        case .motorcyclist: "motorcyclist"
        case .road: "road"
        case .parking: "parking"
        case .sidewalk: "sidewalk"
        case .otherGround: "other-ground"
        case .building: "building"
        case .fence: "fence"
        case .laneMarking: "lane-marking"
        case .vegetation: "vegetation"
        case .trunk: "trunk"
        case .terrain: "terrain"
        case .pole: "pole"
        case .trafficSign: "traffic-sign"
        case .movingCar: "moving-car"
        }
    }

    /// Whether points of the class carry instance ids (SemanticKITTI's "things").
    public var isThing: Bool {
        switch self {
        case .car, .bicycle, .motorcycle, .truck, .otherVehicle, .person, .bicyclist, .motorcyclist, .movingCar: true
        default: false
        }
    }
}
