import Configuration
import Engine
import Formats
import Foundation
import Inference
import Projection

/// The parts of an official `arch_cfg.yaml` (PRBonn/lidar-bonnetal's
/// `train/tasks/semantic/config/arch/*.yaml`, SalsaNext's `salsanext.yml`) that say how a
/// model folder's network sees a scan: the sensor, the backbone and its input channels, the
/// dropouts, and the k-NN post-processing. The training section and other keys are not read:
/// the file belongs to another program, so unknown keys are not errors here.
struct OfficialArchConfig: Decodable {
    var backbone: Backbone?
    var decoder: Decoder?
    var head: Head?
    var post: Post?
    var dataset: Dataset

    struct Backbone: Decodable {
        var name: String
        var inputDepth: InputDepth?
        var dropout: Float?
        var bnD: Float?
        var outputStride: Int?
        var extra: Extra?

        struct Extra: Decodable { var layers: Int? }

        enum CodingKeys: String, CodingKey {
            case name, inputDepth = "input_depth", dropout, bnD = "bn_d", outputStride = "OS", extra
        }
    }

    struct InputDepth: Decodable {
        var range: Bool
        var xyz: Bool
        var remission: Bool
    }

    struct Decoder: Decodable {
        var dropout: Float?
    }

    struct Head: Decodable {
        var dropout: Float?
    }

    struct Post: Decodable {
        var crf: Switch?
        var knn: KNN?

        struct Switch: Decodable { var use: Bool }

        struct KNN: Decodable {
            var use: Bool
            var params: Parameters?

            struct Parameters: Decodable {
                var knn: Int
                var search: Int
                var sigma: Float
                var cutoff: Float
            }
        }

        enum CodingKeys: String, CodingKey { case crf = "CRF", knn = "KNN" }
    }

    struct Dataset: Decodable {
        var sensor: Sensor
    }

    struct Sensor: Decodable {
        var fovUp: Float
        var fovDown: Float
        var imageProperties: ImageProperties
        var imageMeans: [Float]
        var imageStds: [Float]

        struct ImageProperties: Decodable {
            var width: Int
            var height: Int
        }

        enum CodingKeys: String, CodingKey {
            case fovUp = "fov_up", fovDown = "fov_down", imageProperties = "img_prop", imageMeans = "img_means", imageStds = "img_stds"
        }
    }

    /// RangeSeg's sensor: image size, field of view and the per-channel normalisation.
    func sensor(file: URL) throws(FormatError) -> ProjectionConfig {
        let s = dataset.sensor
        var sensor = ProjectionConfig()
        sensor.height = s.imageProperties.height
        sensor.width = s.imageProperties.width
        sensor.fovUp = s.fovUp
        sensor.fovDown = s.fovDown
        guard s.imageMeans.count == 5, s.imageStds.count == 5 else {
            throw FormatError(file: file, reason: "dataset.sensor: img_means and img_stds need 5 values (range, x, y, z, remission), found \(s.imageMeans.count) and \(s.imageStds.count)")
        }
        sensor.means = s.imageMeans
        sensor.stds = s.imageStds
        if let problem = sensor.problem() { throw FormatError(file: file, reason: "dataset.sensor: \(problem)") }
        return sensor
    }

    /// RangeNet++'s DarkNet as the backbone section describes it.
    func darkNet(classes: Int, file: URL) throws(FormatError) -> ArchitectureConfig {
        guard let backbone else { throw FormatError(file: file, reason: "has no backbone section: not a RangeNet++ arch_cfg.yaml") }
        guard backbone.name == "darknet" else {
            throw FormatError(file: file, reason: "backbone.name '\(backbone.name)' is not supported: RangeSeg runs RangeNet++'s darknet (21 and 53 layers) and SalsaNext")
        }
        if let stride = backbone.outputStride, stride != 32 {
            throw FormatError(file: file, reason: "backbone.OS \(stride) is not supported: every official RangeNet++ model has output stride 32")
        }
        var a = DarkNet.defaultArchitecture
        switch backbone.extra?.layers {
        case 21: a.blocks = DarkNet.blocks21
        case 53: a.blocks = DarkNet.blocks53
        case let layers:
            throw FormatError(file: file, reason: "backbone.extra.layers \(layers.map(String.init) ?? "missing"): the official DarkNet has 21 or 53 layers")
        }
        if let depth = backbone.inputDepth {
            a.inputs = .init(range: depth.range, xyz: depth.xyz, remission: depth.remission)
        }
        a.classes = classes
        a.batchNormMomentum = backbone.bnD ?? a.batchNormMomentum
        a.dropout = backbone.dropout ?? a.dropout
        a.decoderDropout = decoder?.dropout ?? a.decoderDropout
        a.headDropout = head?.dropout ?? a.headDropout
        if let problem = a.problems.first { throw FormatError(file: file, reason: problem) }
        return a
    }

    /// The k-NN clean-up the folder asks for (`post.KNN.use`), with the official vote's rule
    /// for points without a vote.
    func knn(file: URL) throws(FormatError) -> RangeKNN? {
        if post?.crf?.use == true {
            throw FormatError(file: file, reason: "post.CRF.use is True: RangeSeg has no CRF post-processing (the official CRF models are darknet53-crf*)")
        }
        guard let knn = post?.knn, knn.use else { return nil }
        guard let p = knn.params else { throw FormatError(file: file, reason: "post.KNN.use is True but post.KNN.params is missing") }
        var result = RangeKNN(k: p.knn, window: p.search, sigma: p.sigma, cutoff: p.cutoff)
        result.withoutVotes = .firstClass
        if let problem = result.problem() { throw FormatError(file: file, reason: "post.KNN.params: \(problem)") }
        return result
    }
}
