import Foundation
import TestSupport
@testable import AgentOS

/// A vault in a fresh temporary folder, removed when the value goes away.
final class TemporaryVault {
    let root: String
    var vault: Vault { Vault(root: root) }

    init() throws {
        root = TemporaryFolder.make("fbt-index-test")
    }

    /// A copy of the Obsidian help corpus (the original is never touched).
    static func corpusCopy() throws -> TemporaryVault {
        let temp = try TemporaryVault()
        try FileManager.default.removeItem(atPath: temp.root)
        try ObsidianHelpCorpus.copy(to: temp.root)
        return temp
    }

    deinit { TemporaryFolder.remove(root) }

    /// Writes a note (creating folders), returning its path.
    @discardableResult
    func write(_ path: String, _ text: String) throws -> String {
        try write(path, bytes: Array(text.utf8))
    }

    @discardableResult
    func write(_ path: String, bytes: [UInt8]) throws -> String {
        let absolute = root + "/" + path
        try FileManager.default.createDirectory(atPath: (absolute as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: absolute))
        return path
    }

    func remove(_ path: String) throws {
        try FileManager.default.removeItem(atPath: root + "/" + path)
    }

    func move(_ from: String, _ to: String) throws {
        let target = root + "/" + to
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: root + "/" + from, toPath: target)
    }
}
