import Foundation

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
