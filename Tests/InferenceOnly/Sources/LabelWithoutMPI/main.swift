// Labels a scan with a freshly initialised (untrained) RangeNet-lite and prints its number of
// points: the whole inference path (projection, forward pass, reprojection, range k-NN) built
// from RangeSegInference alone. Usage: LabelWithoutMPI [SCAN.bin] (default: a synthetic scan).
import Engine
import Foundation
import Inference
import Projection
import Random
import SemanticKITTI

let labels = try LabelConfig.semanticKITTI
let config = TrainingConfig()
var generator = RandomGenerator(seed: 1)
let model = Networks.make(config.architecture, generator: &generator)
model.eval()
let segmenter = Segmenter(model: model, config: config, builder: SampleBuilder(config: config, lookup: labels.lookup()))

let scan: Scan
if CommandLine.arguments.count > 1 {
    scan = try Scan(bin: URL(fileURLWithPath: CommandLine.arguments[1]))
} else {
    // A ring of walls 5 to 30 m away seen from 2 m up, at the sensor's elevations.
    scan = Scan(points: (0 ..< 20_000).map { _ in
        let azimuth = Float(generator.uniform(0, 2 * .pi)), distance = Float(generator.uniform(5, 30))
        let elevation = Float(generator.uniform(-20, 2)) * .pi / 180
        return SIMD4(distance * cosf(azimuth), distance * sinf(azimuth), distance * tanf(elevation), Float(generator.uniform()))
    })
}
let prediction = segmenter.predict(scan, knn: RangeKNN())
print("labelled \(prediction.points.count) points")
