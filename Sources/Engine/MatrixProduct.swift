import CDNNL

/// `c = a · bᵀ` for row-major `a` `[m, k]` and `b` `[n, k]`, into row-major `c` `[m, n]`, with
/// oneDNN's multithreaded sgemm. Thread-safe.
public func multiplyTransposed(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, into c: inout [Float]) {
    precondition(a.count >= m * k && b.count >= n * k && c.count >= m * n, "multiplyTransposed: buffers too small")
    let status = dnnl_sgemm(CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "T")), Int64(m), Int64(n), Int64(k),
                            1, a, Int64(k), b, Int64(k), 0, &c, Int64(n))
    precondition(status == dnnl_success, "dnnl_sgemm failed with status \(status.rawValue)")
}
