// RangeSeg as a library: project a scan, label it with a trained network, and weigh its
// pixels with the subclassified loss. Usage: LibraryTour SCAN.bin LABELS.label CHECKPOINT
import Engine
import Foundation
import Inference
import Losses
import Projection
import SemanticKITTI

let arguments = CommandLine.arguments.dropFirst().map { URL(fileURLWithPath: $0) }
guard arguments.count == 3 else {
    print("usage: LibraryTour SCAN.bin LABELS.label CHECKPOINT.safetensors")
    exit(2)
}
let (scanFile, labelFile, checkpoint) = (arguments[0], arguments[1], arguments[2])

// 1. A scan and its labels, projected into a 64 x 2048 range image.
let labels = try LabelConfig.semanticKITTI
let scan = try Scan(bin: scanFile)
let truth = try ScanLabels(label: labelFile, pointCount: scan.count)
let image = SphericalProjection(ProjectionConfig()).project(scan)
print("projected \(scan.count) points; \(image.filledPixels) of \(image.height * image.width) pixels hold one")

// 2. The trained network (its settings are in config.yaml beside the checkpoint), labelling
//    every point of the scan.
let config = try TrainingConfig(yaml: checkpoint.deletingLastPathComponent().appendingPathComponent("config.yaml"))
let segmenter = try Segmenter(checkpoint: checkpoint, config: config, labels: labels)
let prediction = segmenter.predict(scan)
let lookup = labels.lookup()
let expected = try lookup.learningIDs(of: truth, file: labelFile)
let correct = zip(prediction.points, expected).filter { $0.1 != 0 && $0.0 == $0.1 }.count
print("labelled \(prediction.points.count) points; \(correct) of \(expected.filter { $0 != 0 }.count) labelled points right")

// 3. The subclassified loss on the network's logits: its value and each pixel's weight.
let (c, h, w) = (config.architecture.classes, config.sensor.height, config.sensor.width)
let logits = Tensor(shape: [1, c, h, w], scalars: prediction.logits)
let pixelLabels = prediction.image.pixels(from: expected, empty: 0)
let loss = try subclassifiedLoss(logits: logits, labels: pixelLabels)
let weights = try subclassWeights(logits: logits, labels: pixelLabels)
let counted = zip(weights, pixelLabels).filter { $0.1 != 0 }.map(\.0)
print(String(format: "subclassified loss %.4f; pixel weights from %.2f to %.2f", loss.scalar, counted.min() ?? 0, counted.max() ?? 0))
