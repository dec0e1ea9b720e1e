// `.npz` archives through `NumPyArchive(npzData:)`; what it reads must write back and read
// again the same.
import Formats
import Foundation
import FuzzSupport

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    Seeds.writeIfRequested { _ in
        var archive = NumPyArchive()
        archive["proj_range"] = NumPyArray([1, -1, 2.5, 4] as [Float], shape: [2, 2])
        archive["proj_mask"] = NumPyArray([true, false, true, true], shape: [2, 2])
        archive["idx"] = NumPyArray((0 ..< 20).map { Int32($0) - 1 }, shape: [20])
        var single = NumPyArchive()
        single["x"] = NumPyArray([0.5] as [Double], shape: [])
        return [
            "three-arrays.npz": try archive.npzData(),
            "level-0.npz": try archive.npzData(level: 0),
            "stored.npz": StoredZIP.archive([("labels.npy", NumPyArray([10, 40, 0] as [UInt32], shape: [3]).npyData()),
                                             ("empty.npy", NumPyArray([] as [Float], shape: [0]).npyData())]),
            "one-scalar.npz": try single.npzData(),
        ]
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    guard let archive = Contract.read(naming: ["<npz>"], { try NumPyArchive(npzData: data) }) else { return 0 }
    Contract.require(archive.names.allSatisfy { archive[$0] != nil }, "a name without its array")
    Contract.require(Set(archive.names).count == archive.names.count, "a name listed twice")
    guard let written = Contract.read(naming: ["<npz>"], { try archive.npzData(level: 1) }) else { return 0 }
    let again = Contract.read(naming: ["<npz>"], { try NumPyArchive(npzData: written) })
    Contract.require(again == archive, "what was read does not write back and read again the same")
    return 0
}

/// A ZIP archive of stored (method 0, uncompressed) members, as `np.savez` writes them.
enum StoredZIP {
    static func archive(_ members: [(String, Data)]) -> Data {
        var file = Data(), central = Data()
        func u16(_ v: Int, _ d: inout Data) { d.append(contentsOf: [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)]) }
        func u32(_ v: UInt32, _ d: inout Data) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        for (name, payload) in members {
            let crc = Zlib.crc32(payload), nameBytes = Array(name.utf8), offset = UInt32(file.count)
            u32(0x0403_4B50, &file); u16(20, &file); u16(0, &file); u16(0, &file); u16(0, &file); u16(0x21, &file)
            u32(crc, &file); u32(UInt32(payload.count), &file); u32(UInt32(payload.count), &file)
            u16(nameBytes.count, &file); u16(0, &file); file.append(contentsOf: nameBytes); file.append(payload)
            u32(0x0201_4B50, &central); u16(20, &central); u16(20, &central); u16(0, &central); u16(0, &central)
            u16(0, &central); u16(0x21, &central); u32(crc, &central); u32(UInt32(payload.count), &central)
            u32(UInt32(payload.count), &central); u16(nameBytes.count, &central); u16(0, &central); u16(0, &central)
            u16(0, &central); u16(0, &central); u32(0, &central); u32(offset, &central); central.append(contentsOf: nameBytes)
        }
        var end = Data()
        u32(0x0605_4B50, &end); u16(0, &end); u16(0, &end); u16(members.count, &end); u16(members.count, &end)
        u32(UInt32(central.count), &end); u32(UInt32(file.count), &end); u16(0, &end)
        return file + central + end
    }
}
