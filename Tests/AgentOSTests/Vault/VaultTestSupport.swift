import Foundation
import Testing
@testable import AgentOS

/// Helpers shared by the vault tests: temp folders, the Obsidian Help corpus, the PyYAML reference
/// reader, and a seeded random generator. Kept in one namespace so that other suites' helpers in the
/// same test module cannot collide with these names.
enum VaultTestSupport {
    /// A fresh empty folder under the system temp folder; the caller removes it (see `removeTree`).
    static func makeTemporaryDirectory(_ label: String = "vault") throws -> String {
        let base = FileManager.default.temporaryDirectory.path
        let path = base + "/fbt-\(label)-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        // Resolve /tmp symlinks (e.g. on macOS) so vault paths compare equal.
        return URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }

    /// Removes a folder made by `makeTemporaryDirectory`.
    static func removeTree(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Where the Obsidian Help vault lies: `$FBT_CORPUS`, else `shared/` beside the repository (how
    /// CI lays it out), else the shared folder of the workplace.
    static var corpusRoot: String {
        if let given = ProcessInfo.processInfo.environment["FBT_CORPUS"], !given.isEmpty { return given }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let beside = repository.deletingLastPathComponent().appendingPathComponent("shared/corpus/obsidian-help").path
        if FileManager.default.fileExists(atPath: beside) { return beside }
        return "/work/shared/corpus/obsidian-help"
    }

    /// Copies the corpus into a temp folder (the shared copy must never be modified) and returns the
    /// copy's root and its `.md` files (vault-relative, sorted). Throws a clear error when it is missing.
    static func copyCorpus() throws -> (root: String, notes: [String]) {
        let source = corpusRoot
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SupportError("the Obsidian Help corpus is missing at \(source); clone https://github.com/obsidianmd/obsidian-help there or set FBT_CORPUS")
        }
        let parent = try makeTemporaryDirectory("corpus")
        let root = parent + "/obsidian-help"
        try FileManager.default.copyItem(atPath: source, toPath: root)
        var notes: [String] = []
        guard let walker = FileManager.default.enumerator(atPath: root) else { throw SupportError("cannot list \(root)") }
        while let relative = walker.nextObject() as? String {
            if relative.hasSuffix(".md"), !relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
                notes.append(relative)
            }
        }
        notes.sort()
        guard notes.count > 1000 else { throw SupportError("the corpus at \(source) has only \(notes.count) notes; expected the full Obsidian Help vault") }
        return (root, notes)
    }

    /// Reads a file's bytes.
    static func bytes(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw SupportError("cannot read \(path)") }
        return [UInt8](data)
    }

    /// A test helper's own failure with a one-line message.
    struct SupportError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// The folder of this file, to find `Fixtures/` in a source checkout.
    static let testsDirectory: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path
    }()

    /// Runs the PyYAML reference reader over `paths` in one `python3` process and returns one parsed
    /// record per path. Throws a clear error when python3 or PyYAML is missing, so the test fails.
    /// `environment` replaces the process environment (to test those failures).
    static func pyYAMLRecords(for paths: [String], environment: [String: String]? = nil) throws -> [JSON] {
        let script = testsDirectory + "/Fixtures/frontmatter_to_json.py"
        guard FileManager.default.fileExists(atPath: script) else { throw SupportError("missing \(script)") }
        // The list goes in a file, not down a pipe: writing to the pipe of a python3 that failed to
        // start would kill the test process with SIGPIPE.
        let listFile = try makeTemporaryDirectory("pyyaml")
        defer { removeTree(listFile) }
        let listPath = listFile + "/notes.txt"
        guard FileManager.default.createFile(atPath: listPath, contents: Data((paths.joined(separator: "\n") + "\n").utf8)) else {
            throw SupportError("cannot write \(listPath)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, listPath]
        if let environment { process.environment = environment }
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = errors
        do { try process.run() } catch {
            throw SupportError("cannot start python3 (\(error)); the YAML agreement test needs python3 with PyYAML: install python3, then python3 -m pip install pyyaml")
        }
        // Drain stderr on another thread while this one drains stdout: waiting for either first can
        // deadlock once a pipe buffer fills.
        let errorBox = DataBox()
        let errorReader = Thread { errorBox.data = errors.fileHandleForReading.readDataToEndOfFile() }
        errorReader.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorBox.isDone { usleep(1000) }
        let stderrText = String(decoding: errorBox.data ?? Data(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if process.terminationStatus == 127 || stderrText.contains("No such file") && stderrText.contains("python3") {
            throw SupportError("python3 is not installed; the YAML agreement test needs python3 with PyYAML (python3 -m pip install pyyaml)")
        }
        if process.terminationStatus == 3 {
            throw SupportError("PyYAML is not installed for python3; run: python3 -m pip install pyyaml")
        }
        guard process.terminationStatus == 0 else {
            throw SupportError("the PyYAML reference reader failed (exit \(process.terminationStatus)): \(stderrText.split(separator: "\n").last ?? "")")
        }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
        guard lines.count == paths.count else {
            throw SupportError("the PyYAML reference reader printed \(lines.count) records for \(paths.count) notes")
        }
        return try lines.map { try JSON.parse(String($0)) }
    }

    /// Collects a helper thread's output; the flag is set after the data.
    final class DataBox: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: Data?
        private var done = false
        var data: Data? {
            get { lock.lock(); defer { lock.unlock() }; return stored }
            set { lock.lock(); stored = newValue; done = true; lock.unlock() }
        }
        var isDone: Bool { lock.lock(); defer { lock.unlock() }; return done }
    }
}

/// The library's seeded SplitMix64, so that a failing fuzz case reproduces from its seed.
typealias SeededGenerator = SeededRandom
