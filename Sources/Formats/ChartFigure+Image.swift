import Foundation

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
