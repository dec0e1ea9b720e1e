import Foundation

extension Chart {
    struct LegendEntry {
        enum Swatch { case line, lineWithDot, box, whisker }
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
                    case .lineWithDot:
                        elements.append(.rect(Rect(x: x, y: middle - 1, width: 22, height: 3), entry.color))
                        elements.append(.dot(x: Double(x) + 11, y: Double(middle) + 0.5, radius: 4, entry.color))
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
