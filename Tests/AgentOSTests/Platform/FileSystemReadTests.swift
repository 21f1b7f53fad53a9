import Foundation
import Testing
import TestSupport
@testable import AgentOS

/// `FileSystem.read`: every note the index, the router and the packets read goes through it.
@Suite struct FileSystemReadTests {
    @Test(arguments: [0, 1, 4095, 4096, 10_000, 300_000])
    func aFileIsReadWhole(size: Int) throws {
        let folder = TemporaryFolder("fbt-read")
        let path = folder.path + "/note.md"
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let read = try FileSystem.read(path)
        #expect(read.bytes == bytes)
        #expect(read.status.size == Int64(size))
        // Read into an array of the file's size (and one spare byte to see the end), not one grown
        // to twice that: the index holds many of these at once.
        // (An empty file gets one page: `/proc` files say they are empty too.)
        let allowed = size == 0 ? 4096 + 64 : max(size + 64, size + size / 8)
        #expect(read.bytes.capacity <= allowed, "capacity \(read.bytes.capacity) for \(size) bytes")
    }

    /// `/proc` files say they are empty; a sysctl answers only a read from its start, so a first
    /// read of one byte would make `doctor` see an inotify limit of "1".
    @Test(arguments: ["/proc/sys/fs/inotify/max_user_watches", "/proc/sys/kernel/pid_max", "/proc/self/status"])
    func aProcFileThatSaysItIsEmptyIsReadWhole(path: String) throws {
        guard FileManager.default.isReadableFile(atPath: path) else { return }
        let expected = try String(contentsOfFile: path, encoding: .utf8)
        let read = try FileSystem.read(path, limit: 64 * 1024)
        #expect(read.status.size == 0)
        let text = String(decoding: read.bytes, as: UTF8.self)
        if path.hasSuffix("/status") {
            #expect(text.hasPrefix("Name:") && text.contains("\nPid:"))
        } else {
            #expect(text == expected && text.count > 1)
        }
        #expect(try FileSystem.read(path, limit: 64).bytes.count > 1 || path.hasSuffix("/status"))
    }

    @Test func aFileLargerThanTheLimitIsRefused() throws {
        let folder = TemporaryFolder("fbt-read")
        let path = folder.path + "/big.md"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(count: 5_000)))
        #expect(throws: SystemError.self) { _ = try FileSystem.read(path, limit: 4_999) }
        #expect(try FileSystem.read(path, limit: 5_000).bytes.count == 5_000)
    }
}
