import Foundation

/// An 8-bit RGB picture, row-major, top row first.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width * height * 3` bytes: R, G, B for each pixel.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        precondition(width > 0 && height > 0, "an image needs at least one pixel")
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        if fill != (0, 0, 0) {
            for i in 0 ..< width * height { pixels[3 * i] = fill.0; pixels[3 * i + 1] = fill.1; pixels[3 * i + 2] = fill.2 }
        }
    }

    public subscript(row: Int, column: Int) -> (UInt8, UInt8, UInt8) {
        get {
            let i = 3 * (row * width + column)
            return (pixels[i], pixels[i + 1], pixels[i + 2])
        }
        set {
            let i = 3 * (row * width + column)
            pixels[i] = newValue.0; pixels[i + 1] = newValue.1; pixels[i + 2] = newValue.2
        }
    }

    /// The image with every row repeated `factor` times: range images are 32 times wider than
    /// tall, and a taller picture is easier to read.
    public func stretchedVertically(by factor: Int) -> RGBImage {
        precondition(factor >= 1)
        guard factor > 1 else { return self }
        var out = RGBImage(width: width, height: height * factor)
        let rowBytes = width * 3
        for row in 0 ..< height {
            for copy in 0 ..< factor {
                let dst = (row * factor + copy) * rowBytes
                out.pixels.replaceSubrange(dst ..< dst + rowBytes, with: pixels[(row * rowBytes) ..< (row + 1) * rowBytes])
            }
        }
        return out
    }

    /// Stacks pictures of equal width top to bottom, with `gap` black rows between them.
    public static func stacked(_ images: [RGBImage], gap: Int = 0) -> RGBImage {
        precondition(!images.isEmpty && images.allSatisfy { $0.width == images[0].width }, "stacked images need one width")
        let height = images.map(\.height).reduce(0, +) + gap * (images.count - 1)
        var out = RGBImage(width: images[0].width, height: height)
        var offset = 0
        for image in images {
            out.pixels.replaceSubrange(offset ..< offset + image.pixels.count, with: image.pixels)
            offset += image.pixels.count + gap * image.width * 3
        }
        return out
    }
}
