import Foundation

/// Charts for people to read, as a PNG picture and as SVG: training curves (`lines`) and
/// per-class bars (`bars`). Both have round tick values with light grid lines, axis titles,
/// a legend above the data area (never over it) and text in a pixel font with every glyph a
/// label needs.
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
    /// x ticks on whole numbers (epochs). Axis titles should carry units: "loss", "mIoU (%)".
    public static func lines(_ series: [Series], title: String, xTitle: String, yTitle: String, integerX: Bool = false,
                             width: Int = 800, height: Int = 450) -> Figure {
        let xs = series.flatMap { $0.points.filter { $0.x.isFinite && $0.y.isFinite }.map(\.x) }
        let ys = series.flatMap(\.extent)
        var frame = Frame(title: title, width: width, height: height, plotHeight: nil, yTitle: yTitle, xTitle: xTitle,
                          values: ys, tickLabelRows: 1)
        let legend = series.filter { !$0.name.isEmpty }.map { LegendEntry(name: $0.name, color: $0.color, swatch: .line) }
            + (series.contains { $0.spreads != nil } ? [LegendEntry(name: "± 1 standard deviation", color: whiskerColor, swatch: .whisker)] : [])
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
            for i in valid {
                let p = s.points[i]
                if let spread = s.spreads?[i], spread.isFinite, spread != 0 {
                    frame.drawWhisker(x: Int(column(p.x)), low: p.y - abs(spread), high: p.y + abs(spread), capWidth: 9)
                }
                if valid.count <= 40 { frame.elements.append(.dot(x: column(p.x), y: frame.row(p.y), radius: 4, s.color)) }
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
    public static func bars(categories: [String], series: [Series], title: String, yTitle: String, xTitle: String? = nil,
                            plotHeight: Int = 300, minWidth: Int = 560) -> Figure {
        let values = series.flatMap(\.extent) + [0]
        var frame = Frame(title: title, width: minWidth, height: nil, plotHeight: max(plotHeight, textWidth(yTitle) + 20),
                          yTitle: yTitle, xTitle: xTitle ?? "", values: values, tickLabelRows: 0)
        frame.width = max(minWidth, frame.leftMargin + max(30, 14 * series.count + 12) * categories.count + Frame.pad)
        let widestName = categories.map(textWidth).max() ?? 0
        let vertical = widestName > (frame.width - frame.leftMargin - Frame.pad) / max(categories.count, 1) - 6
        frame.categoryLabelDepth = vertical ? widestName : capHeight + descent
        let legend = series.filter { !$0.name.isEmpty }.map { LegendEntry(name: $0.name, color: $0.color, swatch: .box) }
            + (series.contains { $0.spreads != nil } ? [LegendEntry(name: "± 1 standard deviation", color: whiskerColor, swatch: .whisker)] : [])
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

// MARK: - Layout

extension Chart {
    struct LegendEntry {
        enum Swatch { case line, box, whisker }
        var name: String
        var color: Color
        var swatch: Swatch
    }

    /// The parts every chart has, laid out from the outside in: title (wrapped to the width),
    /// legend rows, then the data area with the value axis (ticks, grid, title) on its left
    /// and the x axis (tick labels or category names, title) below it.
    struct Frame {
        static let pad = 16, tickLength = 5, lineHeight = 22
        var title: String
        var width: Int, height: Int
        var yTitle: String, xTitle: String
        /// The value axis, fixed before the layout (its labels set the left margin).
        var scale: Scale
        /// Rows of x tick labels under the data area, and the depth of category names.
        var tickLabelRows: Int
        var categoryLabelDepth: Int
        var elements: [Element] = []
        var plot = Rect(x: 0, y: 0, width: 1, height: 1)
        var legendArea: Rect?
        var plotHeight: Int?

        /// A fixed `height`, or a fixed `plotHeight` (the data area's) with the height following.
        init(title: String, width: Int, height: Int?, plotHeight: Int?, yTitle: String, xTitle: String, values: [Double],
             tickLabelRows: Int, categoryLabelDepth: Int = 0) {
            precondition((height == nil) != (plotHeight == nil), "a frame has a fixed height or a fixed data area height")
            self.title = title
            self.width = width
            self.height = height ?? 0
            self.plotHeight = plotHeight
            self.yTitle = yTitle
            self.xTitle = xTitle
            self.tickLabelRows = tickLabelRows
            self.categoryLabelDepth = categoryLabelDepth
            let finite = values.filter(\.isFinite)
            // About one tick per 50 pixels of the data area.
            let count = max(3, min(8, (plotHeight ?? (height! - 200)) / 50))
            scale = Scale(low: finite.min() ?? 0, high: finite.max() ?? 1, count: count)
        }

        /// The x of the data area's left edge: y title, tick labels, ticks.
        var leftMargin: Int {
            let labels = scale.ticks.map { Chart.textWidth(scale.label($0)) }.max() ?? 0
            return Self.pad + (yTitle.isEmpty ? 0 : Chart.capHeight + Chart.descent + 10) + labels + 6 + Self.tickLength
        }

        /// The pixels between the data area's edges and the ends of the axes (lines keep their
        /// dots off the axis lines).
        var inset = 0

        func row(_ value: Double) -> Double {
            Double(plot.maxY - inset) - scale.fraction(value) * Double(plot.height - 2 * inset)
        }

        /// Places title, legend and data area; draws title, legend and axis titles.
        mutating func layOut(legend: [LegendEntry]) {
            var y = Self.pad
            for line in Self.wrap(title, width: width - 2 * Self.pad) {
                y += Chart.capHeight
                elements.append(.text(Text(string: line, x: Self.pad, y: y, bold: true)))
                y += Chart.descent + 8
            }
            let left = leftMargin
            if !legend.isEmpty {
                let top = y + 4
                var x = left, row = 0, right = left
                for entry in legend {
                    let entryWidth = 30 + Chart.textWidth(entry.name)
                    if x > left && x + entryWidth > width - Self.pad { x = left; row += 1 }
                    let baseline = top + row * Self.lineHeight + Chart.capHeight + 2
                    let middle = baseline - Chart.capHeight / 2
                    switch entry.swatch {
                    case .line: elements.append(.rect(Rect(x: x, y: middle - 1, width: 22, height: 3), entry.color))
                    case .box: elements.append(.rect(Rect(x: x + 3, y: middle - 7, width: 16, height: 14), entry.color))
                    case .whisker:
                        elements.append(.rect(Rect(x: x + 10, y: middle - 7, width: 2, height: 15), entry.color))
                        elements.append(.rect(Rect(x: x + 6, y: middle - 7, width: 10, height: 2), entry.color))
                        elements.append(.rect(Rect(x: x + 6, y: middle + 6, width: 10, height: 2), entry.color))
                    }
                    elements.append(.text(Text(string: entry.name, x: x + 30, y: baseline)))
                    right = max(right, x + entryWidth)
                    x += entryWidth + 24
                }
                let area = Rect(x: left, y: top, width: right - left, height: (row + 1) * Self.lineHeight)
                legendArea = area
                y = area.maxY
            }
            let top = y + 14
            var below = Self.pad
            if !xTitle.isEmpty { below += Chart.capHeight + Chart.descent + 10 }
            below += tickLabelRows * (Chart.capHeight + Chart.descent + 6) + categoryLabelDepth + (categoryLabelDepth > 0 ? 8 : 0)
            below += tickLabelRows > 0 ? Self.tickLength : 0
            if let plotHeight { height = top + plotHeight + below }
            let bottom = height - below
            let right = width - Self.pad - (tickLabelRows > 0 ? 20 : 0)
            plot = Rect(x: left, y: top, width: max(1, right - left), height: max(1, bottom - top))
            if !yTitle.isEmpty {
                elements.append(.text(Text(string: yTitle, x: Self.pad + Chart.capHeight, y: plot.y + plot.height / 2, anchor: .middle, vertical: true)))
            }
            if !xTitle.isEmpty {
                elements.append(.text(Text(string: xTitle, x: plot.x + plot.width / 2, y: height - Self.pad - Chart.descent, anchor: .middle)))
            }
        }

        /// Grid lines and labelled ticks on the value axis, the x ticks given (pixel column and
        /// label), and the axis lines.
        mutating func drawGrid(xTicks: [(column: Int, label: String)]) {
            for t in scale.ticks {
                let y = min(plot.maxY - 1, Int(row(t).rounded()))
                elements.append(.rect(Rect(x: plot.x, y: y, width: plot.width, height: 1), Chart.gridColor))
                elements.append(.rect(Rect(x: plot.x - Self.tickLength - 1, y: y, width: Self.tickLength, height: 1), Chart.axisColor))
                elements.append(.text(Text(string: scale.label(t), x: plot.x - Self.tickLength - 6, y: y + Chart.capHeight / 2, anchor: .end)))
            }
            for t in xTicks {
                let x = min(plot.maxX - 1, max(plot.x, t.column))
                elements.append(.rect(Rect(x: x, y: plot.y, width: 1, height: plot.height), Chart.gridColor))
                elements.append(.rect(Rect(x: x, y: plot.maxY, width: 1, height: Self.tickLength), Chart.axisColor))
                elements.append(.text(Text(string: t.label, x: x, y: plot.maxY + Self.tickLength + 6 + Chart.capHeight, anchor: .middle)))
            }
            elements.append(.rect(Rect(x: plot.x - 1, y: plot.y, width: 1, height: plot.height + 1), Chart.axisColor))
            elements.append(.rect(Rect(x: plot.x - 1, y: plot.maxY, width: plot.width + 1, height: 1), Chart.axisColor))
        }

        /// A vertical whisker from `low` to `high` at column `x` with caps `capWidth` wide.
        mutating func drawWhisker(x: Int, low: Double, high: Double, capWidth: Int) {
            let top = Int(row(high).rounded()), bottom = Int(row(low).rounded())
            elements.append(.rect(Rect(x: x - 1, y: top, width: 2, height: max(1, bottom - top)), Chart.whiskerColor))
            elements.append(.rect(Rect(x: x - capWidth / 2, y: top, width: capWidth, height: 2), Chart.whiskerColor))
            elements.append(.rect(Rect(x: x - capWidth / 2, y: bottom - 1, width: capWidth, height: 2), Chart.whiskerColor))
        }

        func figure() -> Figure {
            Figure(width: width, height: height, title: title, plotArea: plot, legendArea: legendArea,
                   elements: elements, valueScale: scale, inset: inset)
        }

        /// `text` broken at spaces into lines at most `width` pixels wide (a longer word stays whole).
        static func wrap(_ text: String, width: Int) -> [String] {
            var lines: [String] = []
            var line = ""
            for word in text.split(separator: " ") {
                let candidate = line.isEmpty ? String(word) : line + " " + word
                if !line.isEmpty && Chart.textWidth(candidate) > width {
                    lines.append(line)
                    line = String(word)
                } else {
                    line = candidate
                }
            }
            if !line.isEmpty || lines.isEmpty { lines.append(line) }
            return lines
        }
    }
}
