import Foundation

/// Small charts drawn straight into pictures: training curves and per-class bar charts.
public enum Chart {
    /// A line series with a name for the legend.
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var color: (UInt8, UInt8, UInt8)

        public init(name: String, points: [(x: Double, y: Double)], color: (UInt8, UInt8, UInt8)) {
            self.name = name
            self.points = points
            self.color = color
        }
    }

    /// A few distinct colours for series.
    public static let palette: [(UInt8, UInt8, UInt8)] = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14),
                                                           (148, 103, 189), (140, 86, 75), (23, 190, 207), (127, 127, 127)]

    /// A line chart: axes with min/max labels, a title and a legend.
    public static func lines(_ series: [Series], title: String, xLabel: String, width: Int = 640, height: Int = 360) -> RGBImage {
        var image = RGBImage(width: width, height: height, fill: (255, 255, 255))
        let all = series.flatMap(\.points).filter { $0.y.isFinite }
        let left = 56, right = width - 16, top = 40, bottom = height - 36
        PixelFont.draw(title, into: &image, x: left, y: 12)
        guard let xMin = all.map(\.x).min(), let xMax = all.map(\.x).max(),
              let yMinRaw = all.map(\.y).min(), let yMaxRaw = all.map(\.y).max() else { return image }
        let pad = (yMaxRaw - yMinRaw) * 0.05
        let yMin = yMinRaw - pad, yMax = yMaxRaw + pad + (yMaxRaw == yMinRaw ? 1 : 0)
        let xSpan = xMax > xMin ? xMax - xMin : 1
        func px(_ x: Double) -> Int { left + Int((x - xMin) / xSpan * Double(right - left)) }
        func py(_ y: Double) -> Int { bottom - Int((y - yMin) / (yMax - yMin) * Double(bottom - top)) }
        drawAxes(into: &image, left: left, right: right, top: top, bottom: bottom)
        PixelFont.draw(format(yMax), into: &image, x: 4, y: top)
        PixelFont.draw(format(yMin), into: &image, x: 4, y: bottom - 10)
        PixelFont.draw(format(xMin), into: &image, x: left, y: bottom + 8)
        PixelFont.draw(format(xMax), into: &image, x: right - PixelFont.textWidth(format(xMax)), y: bottom + 8)
        PixelFont.draw(xLabel, into: &image, x: (left + right) / 2 - PixelFont.textWidth(xLabel) / 2, y: bottom + 8)
        for (index, s) in series.enumerated() {
            let points = s.points.filter { $0.y.isFinite }
            for (a, b) in zip(points, points.dropFirst()) {
                drawLine(into: &image, from: (px(a.x), py(a.y)), to: (px(b.x), py(b.y)), color: s.color)
            }
            if points.count == 1 { fillRect(into: &image, x: px(points[0].x) - 2, y: py(points[0].y) - 2, width: 5, height: 5, color: s.color) }
            let legendY = top + 4 + index * 14
            fillRect(into: &image, x: right - 150, y: legendY + 2, width: 12, height: 6, color: s.color)
            PixelFont.draw(s.name, into: &image, x: right - 134, y: legendY)
        }
        return image
    }

    /// Bars per category, one colour per series, labels under the bars (rotated text is not
    /// supported: long names are cut to `labelLength` letters). Values may be negative.
    public static func bars(categories: [String], series: [Series], title: String, width: Int? = nil,
                            height: Int = 360, labelLength: Int = 6) -> RGBImage {
        let groupWidth = max(PixelFont.textWidth(String(repeating: "M", count: labelLength)) + 8, 12 * series.count + 8)
        let imageWidth = width ?? (72 + groupWidth * categories.count + 16)
        var image = RGBImage(width: imageWidth, height: height, fill: (255, 255, 255))
        let left = 64, right = imageWidth - 16, top = 40, bottom = height - 40
        PixelFont.draw(title, into: &image, x: left, y: 12)
        let values = series.flatMap { $0.points.map(\.y) }.filter(\.isFinite)
        let yMin = min(0, values.min() ?? 0), yMax = max(values.max() ?? 1, yMin + 1e-9)
        func py(_ y: Double) -> Int { bottom - Int((y - yMin) / (yMax - yMin) * Double(bottom - top)) }
        drawAxes(into: &image, left: left, right: right, top: top, bottom: bottom)
        drawLine(into: &image, from: (left, py(0)), to: (right, py(0)), color: (0, 0, 0))
        PixelFont.draw(format(yMax), into: &image, x: 4, y: top)
        PixelFont.draw(format(yMin), into: &image, x: 4, y: bottom - 10)
        let group = Double(right - left) / Double(max(categories.count, 1))
        let barWidth = max(2, Int(group * 0.8) / max(series.count, 1))
        for (c, name) in categories.enumerated() {
            let x0 = left + Int(Double(c) * group + group * 0.1)
            for (s, serie) in series.enumerated() where c < serie.points.count {
                let v = serie.points[c].y
                guard v.isFinite else { continue }
                let y0 = py(max(v, 0)), y1 = py(min(v, 0))
                fillRect(into: &image, x: x0 + s * barWidth, y: y0, width: barWidth - 1, height: max(1, y1 - y0), color: serie.color)
            }
            let label = String(name.prefix(labelLength))
            PixelFont.draw(label, into: &image, x: x0, y: bottom + 6 + (c % 2) * 14)
        }
        for (index, s) in series.enumerated() {
            let legendY = top + 4 + index * 14
            fillRect(into: &image, x: right - 170, y: legendY + 2, width: 12, height: 6, color: s.color)
            PixelFont.draw(s.name, into: &image, x: right - 154, y: legendY)
        }
        return image
    }

    static func format(_ v: Double) -> String {
        if v == 0 { return "0" }
        if abs(v) >= 100 { return String(format: "%.0f", v) }
        if abs(v) >= 1 { return String(format: "%.2f", v) }
        return String(format: "%.3f", v)
    }

    static func drawAxes(into image: inout RGBImage, left: Int, right: Int, top: Int, bottom: Int) {
        drawLine(into: &image, from: (left, top), to: (left, bottom), color: (0, 0, 0))
        drawLine(into: &image, from: (left, bottom), to: (right, bottom), color: (0, 0, 0))
    }

    static func fillRect(into image: inout RGBImage, x: Int, y: Int, width: Int, height: Int, color: (UInt8, UInt8, UInt8)) {
        for py in max(0, y) ..< min(image.height, y + height) {
            for px in max(0, x) ..< min(image.width, x + width) { image[py, px] = color }
        }
    }

    /// Bresenham's line, two pixels thick.
    static func drawLine(into image: inout RGBImage, from a: (Int, Int), to b: (Int, Int), color: (UInt8, UInt8, UInt8)) {
        var (x0, y0) = a
        let (x1, y1) = b
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var error = dx + dy
        while true {
            for (ox, oy) in [(0, 0), (1, 0), (0, 1)] where x0 + ox >= 0 && x0 + ox < image.width && y0 + oy >= 0 && y0 + oy < image.height {
                image[y0 + oy, x0 + ox] = color
            }
            if x0 == x1 && y0 == y1 { break }
            let e2 = 2 * error
            if e2 >= dy { error += dy; x0 += sx }
            if e2 <= dx { error += dx; y0 += sy }
        }
    }
}
