import PCLBridge

/// Calls a bridge function that reports failure in a C string buffer; returns its result and
/// the message (empty when none was written).
func withBridgeError<T>(_ body: (UnsafeMutablePointer<CChar>, Int) -> T) -> (result: T, message: String) {
    let capacity = 1024
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: capacity) { buffer in
        buffer.initialize(repeating: 0)
        let result = body(buffer.baseAddress!, capacity)
        return (result, String(cString: buffer.baseAddress!))
    }
}
