import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import TestSupport
@testable import Formats

@Suite struct ScaleTests {
    @Test func ticksAreRoundValues() {
        let tight = Chart.Scale(low: 0, high: 0.83, count: 5, maxGrowth: 0)
        #expect(tight.step == 0.2)
        #expect(tight.ticks == [0, 0.2, 0.4, 0.6, 0.8])
        #expect((tight.lower, tight.upper) == (0, 0.83))
        let loose = Chart.Scale(low: 0, high: 0.83, count: 5)
        #expect((loose.lower, loose.upper) == (0, 1))
        #expect(loose.ticks == [0, 0.2, 0.4, 0.6, 0.8, 1])
        #expect(loose.ticks.map(loose.label) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])

        let signed = Chart.Scale(low: -3.2, high: 7.9, count: 5)
        #expect(signed.step == 2)
        #expect(signed.ticks == [-4, -2, 0, 2, 4, 6, 8])
        #expect(signed.ticks.map(signed.label) == ["-4", "-2", "0", "2", "4", "6", "8"])

        let percent = Chart.Scale(low: 12.1, high: 83.4, count: 5)
        #expect(percent.ticks == [10, 20, 30, 40, 50, 60, 70, 80, 90])
        let loss = Chart.Scale(low: 0.147, high: 2.31, count: 5)
        #expect(loss.ticks == [0, 0.5, 1, 1.5, 2, 2.5])
        #expect(loss.label(1) == "1.0" && loss.label(2.5) == "2.5")
        let unit = Chart.Scale(low: -2.6, high: 2.7, count: 6)
        #expect(unit.ticks.map(unit.label) == ["-3", "-2", "-1", "0", "1", "2", "3"])
        let tens = Chart.Scale(low: 3, high: 47, count: 6)
        #expect(tens.ticks.map(tens.label) == ["0", "10", "20", "30", "40", "50"])
        #expect(Chart.Scale(low: 0, high: 0.09, count: 10).label(0.05) == "0.05")
        let steps = Chart.Scale(low: 1, high: 480, count: 8, maxGrowth: 0.1)
        #expect(steps.ticks == [0, 100, 200, 300, 400, 500] || steps.ticks == [0, 50, 100, 150, 200, 250, 300, 350, 400, 450, 500])
        #expect(steps.lower == 0 && steps.upper == 500)
    }

    @Test func ticksOfAnyRangeAreOneTwoOrFiveTimesAPowerOfTen() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0 ..< 2000 {
            let magnitude = pow(10, Double.random(in: -5 ... 6, using: &generator))
            let a = Double.random(in: -1 ... 1, using: &generator) * magnitude
            let b = a + Double.random(in: 0.001 ... 3, using: &generator) * magnitude
            let count = Int.random(in: 3 ... 8, using: &generator)
            let scale = Chart.Scale(low: a, high: b, count: count)
            let mantissa = scale.step / pow(10, log10(scale.step).rounded(.down))
            #expect([1, 2, 5].contains { abs(mantissa - $0) < 1e-9 }, "step \(scale.step)")
            #expect(scale.lower <= a && scale.upper >= b, "[\(scale.lower), \(scale.upper)] misses [\(a), \(b)]")
            #expect((2 ... 2 * count + 1).contains(scale.ticks.count), "\(scale.ticks.count) ticks for count \(count)")
            let labels = scale.ticks.map(scale.label)
            #expect(Set(labels).count == labels.count, "repeated tick labels \(labels)")
            #expect(!labels.contains { $0.hasPrefix("-") && Double($0) == 0 }, "negative zero in \(labels)")
        }
    }

    @Test func integerAndDegenerateRanges() {
        let epochs = Chart.Scale(low: 1, high: 3, count: 8, integer: true, maxGrowth: 0.1)
        #expect(epochs.step == 1 && epochs.ticks == [1, 2, 3])
        let one = Chart.Scale(low: 4, high: 4, count: 5, integer: true, maxGrowth: 0.1)
        #expect(one.lower < 4 && one.upper > 4 && one.ticks.contains(4))
        let flat = Chart.Scale(low: 0.5, high: 0.5)
        #expect(flat.lower < 0.5 && flat.upper > 0.5)
        let nothing = Chart.Scale(low: .nan, high: .infinity)
        #expect((nothing.lower, nothing.upper) == (0, 1))
        let tiny = Chart.Scale(low: 0, high: 3e-6)
        #expect(tiny.ticks.map(tiny.label).allSatisfy { $0.contains("e") || $0 == "0" })
    }
}

@Suite struct PixelFontTests {
    @Test func everyCharacterALabelNeedsHasAGlyph() {
        let needed = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 ,=±%()[]-+.:/_'<>"
        #expect(Chart.missingGlyphs(in: needed).isEmpty, "no glyph for \(Chart.missingGlyphs(in: needed))")
        for scalar in 32 ... 126 {
            #expect(PixelFont.hasGlyph(Character(UnicodeScalar(scalar)!)), "printable ASCII \(scalar) has no glyph")
        }
        #expect(Chart.missingGlyphs(in: "mIoU (%) ≥ 0 → 1") == ["→"])
    }

    @Test func glyphsAreDistinctAndFitTheirCell() {
        var seen: [[UInt8]: Character] = [:]
        let sameOnPurpose: Set<Character> = ["–", "—", "−"]
        for (character, rows) in PixelFont.glyphs {
            #expect(rows.count == PixelFont.ascent || rows.count <= PixelFont.ascent + PixelFont.descent)
            #expect(rows.allSatisfy { $0 < 1 << PixelFont.glyphWidth })
            if character != " " { #expect(rows.contains { $0 != 0 }, "\(character) draws nothing") }
            if let other = seen[rows], !(sameOnPurpose.contains(character) && sameOnPurpose.contains(other)) {
                Issue.record("\(character) and \(other) look the same")
            }
            seen[rows] = character
        }
        // Lower case is not upper case, as the old font had it.
        #expect(PixelFont.glyphs["a"] != PixelFont.glyphs["A"])
    }

    @Test func unknownCharactersDrawABoxAndDescendersGoBelowTheBaseline() {
        func ink(_ text: String, vertical: Bool = false) -> [(row: Int, column: Int)] {
            var image = RGBImage(width: 80, height: 80, fill: (255, 255, 255))
            PixelFont.draw(text, into: &image, x: 40, baseline: 40, scale: 2, vertical: vertical)
            return (0 ..< 80).flatMap { r in (0 ..< 80).compactMap { c in image[r, c] == (0, 0, 0) ? (r, c) : nil } }
        }
        let box = ink("→")
        #expect(box.count == 2 * 2 * (5 + 5 + 5 + 5), "a hollow 5 x 7 box at scale 2")
        #expect(ink("g").contains { $0.row >= 40 } && !ink("a").contains { $0.row >= 40 })
        #expect(ink("A").allSatisfy { (26 ..< 40).contains($0.row) && (40 ..< 50).contains($0.column) })
        // Vertical text reads bottom to top: the glyph's top lies left of the baseline column.
        let turned = ink("T", vertical: true)
        #expect(turned.allSatisfy { (26 ..< 40).contains($0.column) && (30 ... 40).contains($0.row) })
        #expect(PixelFont.width("motorcyclist") == (12 * 6 - 1) * 2)
    }
}

@Suite struct ChartTests {
    static let classes = ["vegetation", "road", "building", "sidewalk", "terrain", "car", "fence", "parking", "trunk", "pole",
                          "other-ground", "traffic-sign", "truck", "other-vehicle", "person", "bicycle", "bicyclist",
                          "motorcycle", "motorcyclist"]

    static func gainChart(seriesCount: Int = 1) -> Chart.Figure {
        let gains: [Double] = [0.3, -0.8, 0.5, 1.2, -0.4, 0.9, 2.1, 3.5, 1.8, 2.7, 4.2, 3.1, 6.5, 5.8, 7.9, 4.4, -3.2, 6.1, 9.4]
        let series = (0 ..< seriesCount).map { s in
            Chart.Series(name: "loss \(s) minus ce", points: gains.enumerated().map { (Double($0.offset), $0.element - Double(s)) },
                         spreads: gains.map { abs($0) / 3 + 0.2 }, color: Chart.palette[s])
        }
        return Chart.bars(categories: classes, series: series, title: "IoU gain over ce (mean ± s.d., 3 seeds)",
                          yTitle: "IoU gain (points)", xTitle: "class, most frequent first")
    }

    static func lossChart(points: Int = 480, names: [String] = ["step loss", "epoch mean"]) -> Chart.Figure {
        let series = names.enumerated().map { n, name in
            Chart.Series(name: name, points: (1 ... points).map { s in (Double(s), 2.3 * exp(-Double(s) / 40) + 0.15 + Double(n) * 0.1) },
                         color: Chart.palette[n % Chart.palette.count])
        }
        return Chart.lines(series, title: "Training loss", xTitle: "step", yTitle: "loss")
    }

    @Test func legendsStayOutOfTheDataArea() throws {
        let many = (0 ..< 9).map { "a rather long series name \($0)" }
        for figure in [Self.lossChart(), Self.lossChart(names: many), Self.gainChart(), Self.gainChart(seriesCount: 3)] {
            let legend = try #require(figure.legendArea)
            #expect(!legend.intersects(figure.plotArea), "legend \(legend) over the data \(figure.plotArea)")
            #expect(legend.x >= 0 && legend.maxX <= figure.width && legend.y >= 0)
            #expect(figure.plotArea.height >= 100, "the data area shrank to \(figure.plotArea)")
        }
        // Nine long names wrap into several legend rows.
        #expect(try #require(Self.lossChart(names: many).legendArea).height > 3 * Chart.Frame.lineHeight)
        // Lines and dots of the series lie inside the data area.
        let loss = Self.lossChart()
        for case let .polyline(points, _, _) in loss.elements {
            #expect(points.allSatisfy { Int($0.x) >= loss.plotArea.x && Int($0.x) < loss.plotArea.maxX })
            #expect(points.allSatisfy { Int($0.y) >= loss.plotArea.y && Int($0.y) < loss.plotArea.maxY })
        }
    }

    @Test func categoryNamesAreWholeAndDoNotCollide() throws {
        let figure = Self.gainChart()
        let texts = figure.elements.compactMap { if case let .text(t) = $0, t.vertical, t.y > figure.plotArea.maxY { t } else { nil } }
        #expect(texts.map(\.string) == Self.classes)
        // Each turned name occupies the columns [x - cap height, x + descent) and rows above its end.
        let boxes = texts.map { t in
            Chart.Rect(x: t.x - Chart.capHeight, y: t.y, width: Chart.capHeight + Chart.descent, height: Chart.textWidth(t.string))
        }
        for (i, box) in boxes.enumerated() {
            #expect(box.x >= figure.plotArea.x && box.maxX <= figure.width && box.maxY <= figure.height, "\(texts[i].string) cut off")
            #expect(box.y > figure.plotArea.maxY)
            if i > 0 { #expect(!box.intersects(boxes[i - 1]), "\(texts[i].string) runs into \(texts[i - 1].string)") }
        }
        // Short names stay horizontal.
        let short = Chart.bars(categories: ["car", "road"], series: [Chart.Series(name: "", points: [(0, 1), (1, 2)], color: Chart.palette[0])],
                               title: "t", yTitle: "y")
        #expect(short.elements.allSatisfy { if case let .text(t) = $0 { !t.vertical || t.string == "y" } else { true } })
        #expect(short.legendArea == nil)
    }

    @Test func negativeBarsHangBelowTheZeroLine() throws {
        let blue = Chart.palette[0]
        let figure = Chart.bars(categories: ["up", "down"], series: [Chart.Series(name: "gain", points: [(0, 3), (1, -2)], spreads: [0, 1], color: blue)],
                                title: "signs", yTitle: "points")
        let image = figure.image()
        let group = Double(figure.plotArea.width) / 2
        let up = Int(Double(figure.plotArea.x) + 0.5 * group), down = Int(Double(figure.plotArea.x) + 1.5 * group)
        let zero = Int(figure.row(0).rounded())
        func at(_ value: Double, _ column: Int) -> (UInt8, UInt8, UInt8) { image[Int(figure.row(value).rounded()), column] }
        #expect(at(1.5, up + 4) == blue && at(-1, up + 4) != blue)
        #expect(at(-0.5, down + 4) == blue && at(0.5, down + 4) != blue)
        #expect(at(-1.5, down + 4) == blue && at(-2.5, down + 4) != blue)
        #expect(at(-1.5, down + 14) == blue && at(-0.5, up + 4) != blue)
        // The zero line is dark and runs between the bars; the whisker reaches -3 below the bar.
        #expect(image[zero, (up + down) / 2] == Chart.axisColor)
        #expect(at(-2.6, down) == Chart.whiskerColor && at(-3.4, down) != Chart.whiskerColor)
        #expect(figure.valueScale.lower <= -3 && figure.valueScale.upper >= 3)
        // Without negative values there is no separate zero line: zero is the bottom axis.
        let positive = Chart.bars(categories: ["a"], series: [Chart.Series(name: "", points: [(0, 1)], color: blue)], title: "t", yTitle: "y")
        #expect(positive.valueScale.lower == 0)
    }

    @Test func pictureAndSVGShowTheSameChart() throws {
        for figure in [Self.lossChart(), Self.gainChart(seriesCount: 2)] {
            let image = figure.image()
            #expect((image.width, image.height) == (figure.width, figure.height))
            let svg = figure.svg()
            let parsed = try SVGText(svg)
            #expect(parsed.root == "svg")
            #expect(parsed.size == (figure.width, figure.height))
            #expect(parsed.title == figure.title)
            #expect(parsed.texts == figure.texts)
            #expect(figure.missingGlyphs.isEmpty)
        }
        let gain = try SVGText(Self.gainChart().svg())
        #expect(gain.texts.contains("IoU gain (points)") && gain.texts.contains("class, most frequent first"))
        #expect(gain.texts.contains("motorcyclist") && gain.texts.contains("± 1 standard deviation"))
        let loss = try SVGText(Self.lossChart().svg())
        #expect(loss.texts.contains("loss") && loss.texts.contains("step") && loss.texts.contains("Training loss"))
        // Markup in names is escaped, not interpreted.
        let odd = Chart.lines([Chart.Series(name: "<a & 'b'>", points: [(0, 1), (1, 2)], color: Chart.palette[0])],
                              title: "x < y & z", xTitle: "x", yTitle: "y")
        let parsedOdd = try SVGText(odd.svg())
        #expect(parsedOdd.title == "x < y & z" && parsedOdd.texts.contains("<a & 'b'>"))
    }

    @Test func longCurvesStaySmall() throws {
        let figure = Self.lossChart(points: 50_000, names: ["step loss"])
        let svg = figure.svg()
        #expect(svg.utf8.count < 150_000, "\(svg.utf8.count) bytes of SVG")
        // The thinned curve keeps the extremes: the first (highest) value is still drawn.
        let line = figure.elements.compactMap { if case let .polyline(p, _, _) = $0 { p } else { nil } }.first!
        #expect(line.count < 4 * figure.plotArea.width + 4)
        #expect(abs(line.map(\.y).min()! - figure.row(2.3 * exp(-1.0 / 40) + 0.15)) < 0.01)
    }

    @Test func writesPNGAndSVGAtomically() throws {
        let directory = SampleData.temporaryDirectory("charts")
        defer { try? FileManager.default.removeItem(at: directory) }
        let figure = Self.gainChart()
        try figure.write(png: directory.appendingPathComponent("gain.png"), svg: directory.appendingPathComponent("gain.svg"))
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(files == ["gain.png", "gain.svg"])
        let png = [UInt8](try Data(contentsOf: directory.appendingPathComponent("gain.png")))
        let width = Int(png[16]) << 24 | Int(png[17]) << 16 | Int(png[18]) << 8 | Int(png[19])
        let height = Int(png[20]) << 24 | Int(png[21]) << 16 | Int(png[22]) << 8 | Int(png[23])
        #expect((width, height) == (figure.width, figure.height))
        let svg = try String(contentsOf: directory.appendingPathComponent("gain.svg"), encoding: .utf8)
        #expect(svg == figure.svg())
    }
}

/// What the tests read back from an SVG document with Foundation's XML parser.
struct SVGText {
    var root = ""
    var size = (0, 0)
    var title = ""
    var texts: [String] = []

    init(_ svg: String) throws {
        let reader = Reader()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = reader
        guard parser.parse() else { throw reader.error ?? parser.parserError ?? CocoaError(.fileReadCorruptFile) }
        root = reader.root
        size = reader.size
        title = reader.title
        texts = reader.texts
    }

    private final class Reader: NSObject, XMLParserDelegate {
        var root = "", size = (0, 0), title = "", texts: [String] = []
        var error: Error?
        private var current: String?, buffer = ""

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            if root.isEmpty {
                root = name
                size = (Int(attributes["width"] ?? "") ?? -1, Int(attributes["height"] ?? "") ?? -1)
            }
            if name == "text" || name == "title" { current = name; buffer = "" }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { if current != nil { buffer += string } }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "text" { texts.append(buffer) }
            if name == "title" { title = buffer }
            current = nil
        }

        func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { error = parseError }
    }
}
