import Foundation

extension Chart {
    /// A rectangle of pixels: columns `x ..< x + width`, rows `y ..< y + height`.
    public struct Rect: Sendable, Equatable, CustomStringConvertible {
        public var x: Int, y: Int, width: Int, height: Int

        public init(x: Int, y: Int, width: Int, height: Int) {
            self.x = x; self.y = y; self.width = width; self.height = height
        }

        public var maxX: Int { x + width }
        public var maxY: Int { y + height }

        /// Whether the two rectangles share a pixel.
        public func intersects(_ other: Rect) -> Bool {
            x < other.maxX && other.x < maxX && y < other.maxY && other.y < maxY
        }

        public var description: String { "\(width)x\(height) at (\(x), \(y))" }
    }

    /// A drawn chart: shapes and text in pixel coordinates, rendered to a picture (`image()`)
    /// or to SVG with real text (`svg()`), so that both files show the same chart.
    public struct Figure: Sendable {
        /// The size in pixels.
        public let width: Int, height: Int
        /// The title, also the SVG's `<title>`.
        public let title: String
        /// The data area: points, lines and bars lie inside it, axes along its left and bottom edges.
        public let plotArea: Rect
        /// The legend (outside the data area), or nil without one.
        public let legendArea: Rect?
        /// The shapes, painted in order.
        let elements: [Element]
        /// The value axis (y), to find where a value is drawn.
        let valueScale: Scale
        /// The pixels between the data area's edges and the ends of the axes.
        let inset: Int

        /// Every string the chart draws (title, legend, tick labels, axis titles, categories).
        public var texts: [String] {
            elements.compactMap { if case let .text(text) = $0 { text.string } else { nil } }
        }

        /// The characters of `texts` that the pixel font has no glyph for (drawn as boxes in
        /// the picture; the SVG has them as text).
        public var missingGlyphs: Set<Character> { Set(texts.joined().filter { !PixelFont.hasGlyph($0) }) }

        /// The row of pixels where `value` lies on the value axis.
        func row(_ value: Double) -> Double {
            Double(plotArea.maxY - inset) - valueScale.fraction(value) * Double(plotArea.height - 2 * inset)
        }

        /// Writes the picture as PNG and the SVG, each atomically.
        public func write(png: URL, svg svgURL: URL) throws(FormatError) {
            try image().write(png: png)
            try AtomicFile.write(Data(svg().utf8), to: svgURL)
        }
    }

    typealias Color = (UInt8, UInt8, UInt8)

    /// Text at an anchor point on its baseline; vertical text reads bottom to top.
    struct Text: Sendable {
        enum Anchor: Sendable { case start, middle, end }
        var string: String
        var x: Int, y: Int
        var anchor: Anchor = .start
        var vertical = false
        var bold = false
        var color: Color = (0, 0, 0)
    }

    /// What figures are made of.
    enum Element: Sendable {
        /// A filled rectangle (bars, grid lines, axes, ticks, whiskers, legend swatches).
        case rect(Rect, Color)
        /// An anti-aliased open line through points in pixel coordinates.
        case polyline([(x: Double, y: Double)], Color, width: Double)
        /// An anti-aliased disc.
        case dot(x: Double, y: Double, radius: Double, Color)
        case text(Text)
    }

    /// The pixel font's scale for all chart text: 12 pixels per character, capitals 14 high.
    static let textScale = 2
    static var capHeight: Int { PixelFont.ascent * textScale }
    static var descent: Int { PixelFont.descent * textScale }
    static func textWidth(_ string: String) -> Int { PixelFont.width(string, scale: textScale) }
}

// MARK: - Pictures

extension Chart.Figure {
    /// The chart as a picture, white background.
    public func image() -> RGBImage {
        var image = RGBImage(width: width, height: height, fill: (255, 255, 255))
        for element in elements {
            switch element {
            case let .rect(r, color):
                for y in max(0, r.y) ..< min(height, r.maxY) {
                    for x in max(0, r.x) ..< min(width, r.maxX) { image[y, x] = color }
                }
            case let .polyline(points, color, lineWidth):
                Self.paint(into: &image, color: color) { coverage in
                    for (a, b) in zip(points, points.dropFirst()) {
                        Self.coverSegment(a, b, width: lineWidth, coverage: &coverage, size: (width, height))
                    }
                    if points.count == 1 { Self.coverDisc(points[0], radius: lineWidth, coverage: &coverage, size: (width, height)) }
                }
            case let .dot(x, y, radius, color):
                Self.paint(into: &image, color: color) { coverage in
                    Self.coverDisc((x, y), radius: radius, coverage: &coverage, size: (width, height))
                }
            case let .text(t):
                let w = Chart.textWidth(t.string)
                let offset = t.anchor == .start ? 0 : t.anchor == .middle ? -w / 2 : -w
                if t.vertical {
                    PixelFont.draw(t.string, into: &image, x: t.x, baseline: t.y - offset, scale: Chart.textScale,
                                   color: t.color, vertical: true, bold: t.bold)
                } else {
                    PixelFont.draw(t.string, into: &image, x: t.x + offset, baseline: t.y, scale: Chart.textScale,
                                   color: t.color, bold: t.bold)
                }
            }
        }
        return image
    }

    /// Blends `color` over the picture by the coverage (0 ... 1 per pixel) that `cover` computes;
    /// the coverage of overlapping pieces is their maximum, so joints are not painted twice.
    private static func paint(into image: inout RGBImage, color: Chart.Color, _ cover: (inout [Float]) -> Void) {
        var coverage = [Float](repeating: 0, count: image.width * image.height)
        cover(&coverage)
        for i in coverage.indices where coverage[i] > 0 {
            let a = coverage[i], b = 1 - a
            let row = i / image.width, column = i % image.width
            let old = image[row, column]
            func mix(_ o: UInt8, _ n: UInt8) -> UInt8 { UInt8((Float(o) * b + Float(n) * a).rounded()) }
            image[row, column] = (mix(old.0, color.0), mix(old.1, color.1), mix(old.2, color.2))
        }
    }

    /// The coverage of a segment `width` pixels thick with round ends: by the distance of each
    /// pixel's centre from the segment.
    private static func coverSegment(_ a: (x: Double, y: Double), _ b: (x: Double, y: Double), width: Double,
                                     coverage: inout [Float], size: (Int, Int)) {
        let reach = width / 2 + 1
        let x0 = max(0, Int((min(a.x, b.x) - reach).rounded(.down))), x1 = min(size.0 - 1, Int((max(a.x, b.x) + reach).rounded(.up)))
        let y0 = max(0, Int((min(a.y, b.y) - reach).rounded(.down))), y1 = min(size.1 - 1, Int((max(a.y, b.y) + reach).rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        let dx = b.x - a.x, dy = b.y - a.y, length2 = dx * dx + dy * dy
        for y in y0 ... y1 {
            for x in x0 ... x1 {
                let px = Double(x) + 0.5, py = Double(y) + 0.5
                let t = length2 > 0 ? min(1, max(0, ((px - a.x) * dx + (py - a.y) * dy) / length2)) : 0
                let ex = px - (a.x + t * dx), ey = py - (a.y + t * dy)
                let c = Float(min(1, max(0, width / 2 + 0.5 - (ex * ex + ey * ey).squareRoot())))
                let i = y * size.0 + x
                if c > coverage[i] { coverage[i] = c }
            }
        }
    }

    private static func coverDisc(_ centre: (x: Double, y: Double), radius: Double, coverage: inout [Float], size: (Int, Int)) {
        coverSegment(centre, centre, width: 2 * radius, coverage: &coverage, size: size)
    }
}

// MARK: - SVG

extension Chart.Figure {
    /// The chart as an SVG document: the same shapes, text as text (a monospaced font 20 pixels
    /// high, whose characters are as wide as the pixel font's).
    public func svg() -> String {
        var out = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" \
        font-family="'DejaVu Sans Mono', Menlo, Consolas, monospace" font-size="20">
        <title>\(Self.escape(title))</title>
        <rect width="\(width)" height="\(height)" fill="#ffffff"/>

        """
        for element in elements {
            switch element {
            case let .rect(r, color):
                out += "<rect x=\"\(r.x)\" y=\"\(r.y)\" width=\"\(r.width)\" height=\"\(r.height)\" fill=\"\(Self.hex(color))\"/>\n"
            case let .polyline(points, color, lineWidth):
                let list = points.map { "\(Self.number($0.x)),\(Self.number($0.y))" }.joined(separator: " ")
                out += "<polyline points=\"\(list)\" fill=\"none\" stroke=\"\(Self.hex(color))\" stroke-width=\"\(Self.number(lineWidth))\" "
                    + "stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n"
            case let .dot(x, y, radius, color):
                out += "<circle cx=\"\(Self.number(x))\" cy=\"\(Self.number(y))\" r=\"\(Self.number(radius))\" fill=\"\(Self.hex(color))\"/>\n"
            case let .text(t):
                var attributes = "x=\"\(t.x)\" y=\"\(t.y)\""
                if t.vertical { attributes += " transform=\"rotate(-90 \(t.x) \(t.y))\"" }
                switch t.anchor {
                case .start: break
                case .middle: attributes += " text-anchor=\"middle\""
                case .end: attributes += " text-anchor=\"end\""
                }
                if t.bold { attributes += " font-weight=\"bold\"" }
                if t.color != (0, 0, 0) { attributes += " fill=\"\(Self.hex(t.color))\"" }
                out += "<text \(attributes)>\(Self.escape(t.string))</text>\n"
            }
        }
        return out + "</svg>\n"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(c)
            }
        }
        return out
    }

    private static func hex(_ c: Chart.Color) -> String { String(format: "#%02x%02x%02x", c.0, c.1, c.2) }

    /// A coordinate with at most one decimal: "12", "12.5".
    private static func number(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(format: "%.1f", r)
    }
}
