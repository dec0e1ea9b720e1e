import Foundation

extension URL {
    /// Whether a directory exists at this file URL (a file of that name is not one).
    public var isExistingDirectory: Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
