/// Average pooling, as PyTorch's `nn.AvgPool2d(kernel_size, stride, padding)` with
/// `count_include_pad=True` and `ceil_mode=False`: `[N, C, H, W]` to `[N, C, H', W']`,
/// `H' = floor((H + 2 padding.h − kernel.h) / stride.h) + 1`. No parameters.
///
/// ```swift
/// let pool = AvgPool2d(kernel: 3, stride: 2, padding: 1)   // SalsaNext's encoder pooling
/// let y = pool(x)                                          // [N, C, 64, 2048] -> [N, C, 32, 1024]
/// ```
public final class AvgPool2d: Layer {
    public let kernel: Size2D
    public let stride: Size2D
    public let padding: Size2D
    public var isTraining = true

    /// - Parameters:
    ///   - kernel: the window's height and width.
    ///   - stride: the step between windows; PyTorch's default is the kernel size.
    ///   - padding: zeros added on each side, at most half the kernel.
    public init(kernel: Size2D, stride: Size2D? = nil, padding: Size2D = 0) {
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        averagePool2d(x, kernel: kernel, stride: stride, padding: padding)
    }
}
