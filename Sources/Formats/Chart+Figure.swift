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
