/// A 3 x 5 pixel font for labelling charts: digits, upper-case letters and a few signs.
/// Each glyph is five rows of three bits, most significant bit on the left.
enum PixelFont {
    static let width = 3, height = 5

    static let glyphs: [Character: [UInt8]] = [
        "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7],
        "4": [5, 5, 7, 1, 1], "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 2, 2],
        "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7], ".": [0, 0, 0, 0, 2], "-": [0, 0, 7, 0, 0],
        "%": [5, 1, 2, 4, 5], ":": [0, 2, 0, 2, 0], "/": [1, 1, 2, 4, 4], " ": [0, 0, 0, 0, 0],
        "+": [0, 2, 7, 2, 0], "(": [1, 2, 2, 2, 1], ")": [4, 2, 2, 2, 4], "_": [0, 0, 0, 0, 7],
        "A": [2, 5, 7, 5, 5], "B": [6, 5, 6, 5, 6], "C": [7, 4, 4, 4, 7], "D": [6, 5, 5, 5, 6],
        "E": [7, 4, 6, 4, 7], "F": [7, 4, 6, 4, 4], "G": [7, 4, 5, 5, 7], "H": [5, 5, 7, 5, 5],
        "I": [7, 2, 2, 2, 7], "J": [1, 1, 1, 5, 7], "K": [5, 5, 6, 5, 5], "L": [4, 4, 4, 4, 7],
        "M": [5, 7, 7, 5, 5], "N": [6, 5, 5, 5, 5], "O": [7, 5, 5, 5, 7], "P": [7, 5, 7, 4, 4],
        "Q": [7, 5, 5, 7, 1], "R": [6, 5, 6, 5, 5], "S": [7, 4, 7, 1, 7], "T": [7, 2, 2, 2, 2],
        "U": [5, 5, 5, 5, 7], "V": [5, 5, 5, 5, 2], "W": [5, 5, 7, 7, 5], "X": [5, 5, 2, 5, 5],
        "Y": [5, 5, 2, 2, 2], "Z": [7, 1, 2, 4, 7],
    ]

    /// Draws `text` (upper-cased) with its top-left corner at (x, y), each font pixel a
    /// `scale` x `scale` square.
    static func draw(_ text: String, into image: inout RGBImage, x: Int, y: Int, scale: Int = 2,
                     color: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        var cursor = x
        for character in text.uppercased() {
            let rows = glyphs[character] ?? glyphs[" "]!
            for (r, bits) in rows.enumerated() {
                for c in 0 ..< width where bits & (1 << (width - 1 - c)) != 0 {
                    for dy in 0 ..< scale {
                        for dx in 0 ..< scale {
                            let px = cursor + c * scale + dx, py = y + r * scale + dy
                            if px >= 0, px < image.width, py >= 0, py < image.height { image[py, px] = color }
                        }
                    }
                }
            }
            cursor += (width + 1) * scale
        }
    }

    static func textWidth(_ text: String, scale: Int = 2) -> Int { text.count * (width + 1) * scale - scale }
}
