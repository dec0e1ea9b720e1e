import Foundation

/// Charts for people to read, as a PNG picture and as SVG: training curves (`lines`) and
/// per-class bars (`bars`). Both have round tick values with light grid lines, axis titles,
/// a legend above the data area (never over it) and text in a pixel font with every glyph a
/// label needs.
///
/// ```swift
/// let loss = Chart.Series(name: "step loss", points: [(1, 2.3), (2, 1.9), (3, 1.6)], color: Chart.palette[0])
/// let figure = Chart.lines([loss], title: "Training loss", xTitle: "step", yTitle: "loss")
/// try figure.write(png: run.appendingPathComponent("loss.png"), svg: run.appendingPathComponent("loss.svg"))
///
/// let gain = Chart.Series(name: "subclassified minus ce", points: [(0, 1.2), (1, -0.8)], spreads: [0.4, 0.3],
///                         color: Chart.palette[0])
/// let bars = Chart.bars(categories: ["road", "motorcyclist"], series: [gain], title: "IoU gain over ce",
///                       yTitle: "IoU gain (points)")
/// ```
public enum Chart {
    /// A named series of points in one colour, with an optional spread per point (e.g. the
    /// standard deviation over seeds) drawn as whiskers from `y - spread` to `y + spread`.
    public struct Series: Sendable {
        public var name: String
        /// For `lines`, (x, y) pairs; for `bars`, one point per category, in category order
        /// (x is not used).
        public var points: [(x: Double, y: Double)]
        /// Nil, or one non-negative spread per point (non-finite spreads are not drawn).
        public var spreads: [Double]?
        public var color: (UInt8, UInt8, UInt8)

        /// - Parameters:
        ///   - name: The legend's entry; empty for none.
        ///   - points: (x, y) in data units; non-finite values are skipped.
        ///   - spreads: Nil, or one half-length per point (e.g. a standard deviation, in y's units).
        ///   - color: RGB, e.g. from `Chart.palette`.
        public init(name: String, points: [(x: Double, y: Double)], spreads: [Double]? = nil, color: (UInt8, UInt8, UInt8)) {
            precondition(spreads.map { $0.count == points.count } ?? true, "one spread per point")
            self.name = name
            self.points = points
            self.spreads = spreads
            self.color = color
        }

        /// The values the axis must show: each y, and y ± spread.
        var extent: [Double] {
            points.indices.flatMap { i -> [Double] in
                let y = points[i].y
                guard y.isFinite else { return [] }
                guard let s = spreads?[i], s.isFinite else { return [y] }
                return [y - abs(s), y + abs(s)]
            }
        }
    }

    /// A few distinct colours for series (matplotlib's "tab10").
    public static let palette: [(UInt8, UInt8, UInt8)] = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14),
                                                           (148, 103, 189), (140, 86, 75), (23, 190, 207), (127, 127, 127)]

    /// Curves against a numeric x axis: each series a line through its points in order (a
    /// break at non-finite values), a dot on each point when a series has 40 or fewer, and
    /// whiskers where it has spreads. The y axis runs between round values that contain the
    /// data; the x axis ends at the data unless a round value is close. `integerX` keeps the
    /// x ticks on whole numbers (epochs).
    ///
    /// - Parameters:
    ///   - series: The curves, drawn in order (later ones on top); each named one gets a legend entry.
    ///   - title: Bold, top left, wrapped to the width.
    ///   - xTitle: The x axis's title with its unit: "step", "epoch".
    ///   - yTitle: The y axis's title with its unit: "loss", "mIoU (%)".
    ///   - integerX: Whether x ticks must be whole numbers.
    ///   - width: The picture's width in pixels.
    ///   - height: The picture's height in pixels.
    ///   - spreadName: What the whiskers show, for the legend.
    public static func lines(_ series: [Series], title: String, xTitle: String, yTitle: String, integerX: Bool = false,
                             width: Int = 800, height: Int = 450, spreadName: String = "± 1 standard deviation") -> Figure {
        let xs = series.flatMap { $0.points.filter { $0.x.isFinite && $0.y.isFinite }.map(\.x) }
        let ys = series.flatMap(\.extent)
        var frame = Frame(title: title, width: width, height: height, plotHeight: nil, yTitle: yTitle, xTitle: xTitle,
                          values: ys, tickLabelRows: 1)
        let dotted = { (s: Series) in s.points.filter { $0.x.isFinite && $0.y.isFinite }.count <= 40 }
        let legend = series.filter { !$0.name.isEmpty }.map { LegendEntry(name: $0.name, color: $0.color, swatch: dotted($0) ? .lineWithDot : .line) }
            + (series.contains { $0.spreads != nil } ? [LegendEntry(name: spreadName, color: whiskerColor, swatch: .whisker)] : [])
        frame.inset = 6
        frame.layOut(legend: legend)
        let plot = frame.plot
        // The x scale: as many ticks as fit with room between their labels.
        var xScale = Scale(low: xs.min() ?? 0, high: xs.max() ?? 1, count: 8, integer: integerX, maxGrowth: 0.1)
        for count in stride(from: 7, through: 2, by: -1) {
            let widest = xScale.ticks.map { textWidth(xScale.label($0)) }.max() ?? 0
            let spacing = Double(plot.width) * xScale.step / (xScale.upper - xScale.lower)
            if spacing >= Double(widest + 3 * textScale * PixelFont.advance) { break }
            xScale = Scale(low: xs.min() ?? 0, high: xs.max() ?? 1, count: count, integer: integerX, maxGrowth: 0.1)
        }
        func column(_ x: Double) -> Double { Double(plot.x + frame.inset) + xScale.fraction(x) * Double(plot.width - 2 * frame.inset) }
        frame.drawGrid(xTicks: xScale.ticks.map { (Int(column($0)), xScale.label($0)) })
        for s in series {
            var run: [(x: Double, y: Double)] = []
            func flush() {
                if !run.isEmpty { frame.elements.append(.polyline(Self.thinned(run, columns: plot.width), s.color, width: run.count > plot.width / 4 ? 1.5 : 2.5)) }
                run = []
            }
            let valid = s.points.indices.filter { s.points[$0].x.isFinite && s.points[$0].y.isFinite }
            for i in s.points.indices {
                let p = s.points[i]
                if p.x.isFinite && p.y.isFinite { run.append((column(p.x), frame.row(p.y))) } else { flush() }
            }
            flush()
            let dots = dotted(s)
            for i in valid {
                let p = s.points[i]
                if let spread = s.spreads?[i], spread.isFinite, spread != 0 {
                    frame.drawWhisker(x: Int(column(p.x)), low: p.y - abs(spread), high: p.y + abs(spread), capWidth: 9)
                }
                if dots { frame.elements.append(.dot(x: column(p.x), y: frame.row(p.y), radius: 4, s.color)) }
            }
        }
        return frame.figure()
    }

    /// Bars per category (`categories[c]` gets each series' `points[c].y`), series side by
    /// side in a group, bars growing from zero (negative values downwards, below a dark zero
    /// line), whiskers where series have spreads. Category names stand under their groups,
    /// turned to read bottom to top when they are wider than a group. The chart is as wide as
    /// the categories need (at least `minWidth`) and as tall as a data area `plotHeight`
    /// pixels high with the title, legend and names around it.
    ///
    /// - Parameters:
    ///   - categories: The names under the groups, left to right (e.g. classes by prevalence).
    ///   - series: One bar per category each, side by side in series order; spreads draw whiskers.
    ///   - title: Bold, top left, wrapped to the width.
    ///   - yTitle: The value axis's title with its unit: "IoU gain (points)".
    ///   - xTitle: A title under the category names, or nil.
    ///   - plotHeight: The data area's height in pixels (at least the y title's length).
    ///   - minWidth: The least width of the picture in pixels.
    ///   - spreadName: What the whiskers show, for the legend.
    public static func bars(categories: [String], series: [Series], title: String, yTitle: String, xTitle: String? = nil,
                            plotHeight: Int = 300, minWidth: Int = 560, spreadName: String = "± 1 standard deviation") -> Figure {
        let values = series.flatMap(\.extent) + [0]
        var frame = Frame(title: title, width: minWidth, height: nil, plotHeight: max(plotHeight, textWidth(yTitle) + 20),
                          yTitle: yTitle, xTitle: xTitle ?? "", values: values, tickLabelRows: 0)
        frame.width = max(minWidth, frame.leftMargin + max(30, 14 * series.count + 12) * categories.count + Frame.pad)
        let widestName = categories.map(textWidth).max() ?? 0
        let vertical = widestName > (frame.width - frame.leftMargin - Frame.pad) / max(categories.count, 1) - 6
        frame.categoryLabelDepth = vertical ? widestName : capHeight + descent
        let legend = series.filter { !$0.name.isEmpty }.map { LegendEntry(name: $0.name, color: $0.color, swatch: .box) }
            + (series.contains { $0.spreads != nil } ? [LegendEntry(name: spreadName, color: whiskerColor, swatch: .whisker)] : [])
        frame.layOut(legend: legend)
        let plot = frame.plot
        frame.drawGrid(xTicks: [])
        let group = Double(plot.width) / Double(max(categories.count, 1))
        let barWidth = min(36, Int((group - 8) / Double(max(series.count, 1))))
        let zero = Int(frame.row(0).rounded())
        var whiskers: [(x: Int, low: Double, high: Double)] = []
        for (c, name) in categories.enumerated() {
            let centre = Double(plot.x) + (Double(c) + 0.5) * group
            let first = Int(centre) - barWidth * series.count / 2
            for (s, serie) in series.enumerated() where c < serie.points.count && serie.points[c].y.isFinite {
                let v = serie.points[c].y
                let end = Int(frame.row(v).rounded())
                let x = first + s * barWidth
                let top = min(zero, end), bottom = max(zero, end)
                frame.elements.append(.rect(Rect(x: x, y: top, width: barWidth - (series.count > 1 ? 2 : 0), height: max(1, bottom - top)), serie.color))
                if let spread = serie.spreads?[c], spread.isFinite, spread != 0 {
                    whiskers.append((x + (barWidth - (series.count > 1 ? 2 : 0)) / 2, v - abs(spread), v + abs(spread)))
                }
            }
            if vertical {
                frame.elements.append(.text(Text(string: name, x: Int(centre) + capHeight / 2 - 1, y: plot.maxY + 8, anchor: .end, vertical: true)))
            } else {
                frame.elements.append(.text(Text(string: name, x: Int(centre), y: plot.maxY + 8 + capHeight, anchor: .middle)))
            }
        }
        if frame.scale.lower < 0 { frame.elements.append(.rect(Rect(x: plot.x, y: zero, width: plot.width, height: 1), axisColor)) }
        for w in whiskers { frame.drawWhisker(x: w.x, low: w.low, high: w.high, capWidth: min(11, barWidth - 4) | 1) }
        return frame.figure()
    }

    /// The characters of `text` that the pixel font draws as boxes for want of a glyph.
    public static func missingGlyphs(in text: String) -> Set<Character> { Set(text.filter { !PixelFont.hasGlyph($0) }) }

    static let gridColor: Color = (225, 225, 225)
    static let axisColor: Color = (60, 60, 60)
    static let whiskerColor: Color = (40, 40, 40)

    /// At most four points per pixel column (first, lowest, highest, last), so that a curve of
    /// many thousand steps stays a small file and looks the same.
    static func thinned(_ points: [(x: Double, y: Double)], columns: Int) -> [(x: Double, y: Double)] {
        guard points.count > 4 * max(columns, 1) else { return points }
        var out: [(x: Double, y: Double)] = []
        var start = 0
        while start < points.count {
            var end = start
            let column = Int(points[start].x.rounded(.down))
            while end + 1 < points.count, Int(points[end + 1].x.rounded(.down)) == column { end += 1 }
            let slice = points[start ... end]
            let low = slice.indices.max { points[$0].y < points[$1].y }!, high = slice.indices.min { points[$0].y < points[$1].y }!
            for i in Set([start, low, high, end]).sorted() { out.append(points[i]) }
            start = end + 1
        }
        return out
    }
}
