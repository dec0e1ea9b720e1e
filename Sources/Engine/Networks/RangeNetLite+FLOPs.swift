import Foundation

extension RangeNetLite {
    /// Floating-point operations of one forward pass over `[batch, inputChannels, height, width]`:
    /// `2 · MACs` of every convolution and transposed convolution (batch norm, activations and
    /// additions are not counted).
    public func forwardFLOPs(batch: Int, height: Int, width: Int) -> Double {
        var macs = 0.0
        func conv(_ cin: Int, _ cout: Int, _ k: Int, outputWidth: Int) {
            macs += Double(batch * height * outputWidth) * Double(cin * cout * k * k)
        }
        let config = architecture
        let widths = config.widths
        func residual(_ c: Int, _ w: Int) { conv(c, c / 2, 1, outputWidth: w); conv(c / 2, c, 3, outputWidth: w) }
        conv(config.inputChannels, widths[0], 3, outputWidth: width)
        var cin = widths[0], w = width
        for (c, b) in zip(widths, config.blocks) {
            w /= 2
            conv(cin, c, 3, outputWidth: w)
            for _ in 0..<b { residual(c, w) }
            cin = c
        }
        for c in widths.dropLast().reversed() + [widths[0]] {
            // Transposed 1x4: every input pixel meets every weight once.
            macs += Double(batch * height * w) * Double(cin * c * 4)
            w *= 2
            residual(c, w)
            cin = c
        }
        conv(cin, config.classes, 3, outputWidth: w)
        return 2 * macs
    }
}
