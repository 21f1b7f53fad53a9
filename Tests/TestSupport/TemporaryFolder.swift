import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A fresh folder under the system temp folder, removed when the value goes away. The one way the
/// tests make scratch space: `TemporaryFolder()` for a folder that lives as long as its owner,
/// `TemporaryFolder.make()` with `defer { TemporaryFolder.remove(path) }` for one a test scope owns.
public final class TemporaryFolder: @unchecked Sendable {
    /// The folder's absolute path, symlinks resolved (so it compares equal with what children print).
    public let path: String

    /// Makes the folder; its name starts with `label`.
    public init(_ label: String = "fbt") {
        path = Self.make(label)
    }

    deinit { Self.remove(path) }

    /// Makes a fresh folder named `<label>-XXXXXX` and returns its path; the caller removes it.
    /// A machine that cannot make a temp folder cannot run any test, so this stops with the reason.
    public static func make(_ label: String = "fbt") -> String {
        let template = NSTemporaryDirectory() + (NSTemporaryDirectory().hasSuffix("/") ? "" : "/") + "\(label)-XXXXXX"
        var bytes = Array(template.utf8CString)
        let made = bytes.withUnsafeMutableBufferPointer { buffer -> String? in
            mkdtemp(buffer.baseAddress!).map { String(cString: $0) }
        }
        guard let made else { preconditionFailure("cannot make a temp folder from \(template): errno \(errno)") }
        let path = URL(fileURLWithPath: made).resolvingSymlinksInPath().path
        Leftovers.shared.add(path)
        return path
    }

    /// Removes a folder (or file) made for a test, with everything in it; a missing one is fine.
    public static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// The folders `TemporaryFolder.make` made, removed when the test process exits: a test that keeps
/// its folder for a look afterwards (or forgets its `defer`) left thousands in `/tmp` over a day of
/// runs. `FBT_KEEP_TEMP=1` keeps them.
private final class Leftovers: @unchecked Sendable {
    static let shared = Leftovers()
    private let lock = NSLock()
    private var paths: [String] = []

    private init() {
        atexit {
            guard ProcessInfo.processInfo.environment["FBT_KEEP_TEMP"] == nil else { return }
            for path in Leftovers.shared.taken() { try? FileManager.default.removeItem(atPath: path) }
        }
    }

    func add(_ path: String) {
        lock.lock()
        paths.append(path)
        lock.unlock()
    }

    func taken() -> [String] {
        lock.lock()
        defer { lock.unlock() }
        let all = paths
        paths.removeAll()
        return all
    }
}
