import Formats
import Foundation
import Losses
import SemanticKITTI
import Testing
@testable import Training

/// The run's plots: what they say, and that the pixel font can write every label RangeSeg draws.
@Suite struct PlotTests {
    static func log(epochs: Int, stepsPerEpoch: Int, validated: Bool = true) -> TrainingLog {
        var log = TrainingLog()
        for e in 0 ..< epochs {
            for s in 0 ..< stepsPerEpoch {
                log.steps.append(.init(epoch: e, step: e * stepsPerEpoch + s + 1, loss: 2 / Float(e * stepsPerEpoch + s + 1), learningRate: 0.01))
            }
            log.epochs.append(.init(epoch: e, trainLoss: 2 / Float(e + 1), mIoU: validated ? 0.1 + 0.03 * Double(e) : nil,
                                    accuracy: validated ? 0.6 + 0.02 * Double(e) : nil, classIoU: []))
        }
        return log
    }

    @Test func plotsHaveTitlesWithUnitsAndWholeEpochs() throws {
        let (loss, validation) = Self.log(epochs: 3, stepsPerEpoch: 7).plots()
        #expect(loss.texts.contains("Training loss") && loss.texts.contains("step") && loss.texts.contains("loss"))
        #expect(loss.texts.contains("step loss") && loss.texts.contains("epoch mean"))
        let chart = try #require(validation)
        #expect(chart.texts.contains("epoch") && chart.texts.contains("mIoU, accuracy (%)"))
        // Three epochs: ticks 1, 2, 3 and no half epochs.
        let epochTicks = chart.texts.filter { Int($0) != nil && (1 ... 3).contains(Int($0)!) }
        #expect(Set(epochTicks).isSuperset(of: ["1", "2", "3"]))
        #expect(!chart.texts.contains("1.5") && !chart.texts.contains("2.5"))
        for figure in [loss, chart] {
            #expect(figure.missingGlyphs.isEmpty, "no glyph for \(figure.missingGlyphs)")
            #expect(figure.legendArea.map { !$0.intersects(figure.plotArea) } ?? false)
        }
        // Without validation there is no validation chart.
        #expect(Self.log(epochs: 2, stepsPerEpoch: 3, validated: false).plots().validation == nil)
    }

    @Test func writesPNGAndSVGBesideEachOther() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plots-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = RunDirectory(directory)
        try Self.log(epochs: 2, stepsPerEpoch: 4).writePlots(to: run)
        for url in [run.lossPlot, run.lossPlotSVG, run.mIoUPlot, run.mIoUPlotSVG] {
            #expect(FileManager.default.fileExists(atPath: url.path), "\(url.lastPathComponent) missing")
        }
        let svg = try String(contentsOf: run.mIoUPlotSVG, encoding: .utf8)
        #expect(svg.hasPrefix("<?xml") && svg.contains("<title>Validation</title>"))
    }

    @Test func everyNameRangeSegLabelsHasAGlyph() throws {
        let labels = try LabelConfig.semanticKITTI
        let names = Array(labels.names.values) + (0 ..< labels.classCount).map { labels.className(learning: $0) }
        let losses = LossKind.allCases.map(\.rawValue) + ["lovasz+wce", "subclassified:0.5+ce:0.5"] // as compare names them
        for text in names + losses {
            #expect(Chart.missingGlyphs(in: text).isEmpty, "no glyph for \(Chart.missingGlyphs(in: text)) in \(text)")
        }
    }
}
