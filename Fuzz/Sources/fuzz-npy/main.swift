// `.npy` files through `NumPyArray(npyData:)`; what it reads must write back and read again the same.
import Formats
import Foundation
import FuzzSupport

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    Seeds.writeIfRequested { _ in
        let matrix = NumPyArray([1.5, -2, 3.25, 0, 7, 8] as [Float], shape: [2, 3])
        // Version 2.0 (a 4-byte header length), as NumPy writes arrays with long headers.
        var version2 = matrix.npyData()
        let headerLength = Int(version2[8]) | Int(version2[9]) << 8
        version2[6] = 2
        version2.insert(contentsOf: [0, 0], at: 10)
        version2[8] = UInt8(headerLength & 0xFF); version2[9] = UInt8(headerLength >> 8)
        return [
            "f4-2x3.npy": matrix.npyData(),
            "f4-v2.npy": version2,
            "f8-column.npy": NumPyArray([0.5, -1e300] as [Double], shape: [2, 1]).npyData(),
            "i4.npy": NumPyArray([-1, 2, 2_000_000_000] as [Int32], shape: [3]).npyData(),
            "u4.npy": NumPyArray([4_000_000_000] as [UInt32], shape: [1]).npyData(),
            "i8-empty.npy": NumPyArray([] as [Int64], shape: [0, 4]).npyData(),
            "u1-scalar.npy": NumPyArray([255] as [UInt8], shape: []).npyData(),
            "b1.npy": NumPyArray([true, false, true], shape: [3]).npyData(),
        ]
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    guard let array = Contract.read(naming: ["<npy>"], { try NumPyArray(npyData: data) }) else { return 0 }
    Contract.require(array.bytes.count == array.elementCount * array.elementType.byteCount, "bytes do not fill the shape")
    Contract.require(array.floats().count == array.elementCount && array.integers().count == array.elementCount,
                     "conversions do not give one value per element")
    let again = Contract.read(naming: ["<npy>"], { try NumPyArray(npyData: array.npyData()) })
    Contract.require(again == array, "what was read does not write back and read again the same")
    return 0
}
