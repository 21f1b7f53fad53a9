import Foundation

/// Where things are in the source checkout, found from this file's path, so that no test counts
/// `deletingLastPathComponent()` calls and moving a test file between folders breaks nothing.
public enum RepositoryPaths {
    /// The package root (the folder holding `Package.swift`).
    public static let packageRoot: String = {
        // This file is <root>/Tests/TestSupport/RepositoryPaths.swift.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().standardizedFileURL.path
    }()

    /// `Tests/AgentOSTests/Fixtures`: sample files, scripts and fixture agents.
    public static let fixtures = packageRoot + "/Tests/AgentOSTests/Fixtures"

    /// The fixture agents (claude, codex, opencode, …) that print exactly what the real CLIs print.
    public static let fixtureAgents = fixtures + "/agents"

    /// `Tests/EndToEndTests/Fixtures`: scripts only the end-to-end tests run.
    public static let endToEndFixtures = packageRoot + "/Tests/EndToEndTests/Fixtures"

    /// A file or folder under the package root, by its repository-relative path.
    public static func file(_ relative: String) -> String {
        packageRoot + "/" + relative
    }
}

/// The Obsidian Help vault, the large real-world corpus several suites read. It is a fixture: a test
/// that needs it fails when it is missing, with where to put it.
public enum ObsidianHelpCorpus {
    /// `$FBT_CORPUS`, else `shared/corpus/obsidian-help` beside the repository (how CI lays it out),
    /// else the shared folder of the workplace.
    public static var root: String {
        if let given = ProcessInfo.processInfo.environment["FBT_CORPUS"], !given.isEmpty { return given }
        let beside = URL(fileURLWithPath: RepositoryPaths.packageRoot).deletingLastPathComponent()
            .appendingPathComponent("shared/corpus/obsidian-help").path
        if FileManager.default.fileExists(atPath: beside) { return beside }
        return "/work/shared/corpus/obsidian-help"
    }

    /// Copies the corpus to `destination` (which must not exist yet); the shared copy is never
    /// modified. Throws with where the corpus was looked for when it is missing.
    public static func copy(to destination: String) throws {
        let source = root
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TestSupportError("the Obsidian Help corpus is missing at \(source); put a copy of https://github.com/obsidianmd/obsidian-help there or set FBT_CORPUS")
        }
        try FileManager.default.copyItem(atPath: source, toPath: destination)
    }
}

/// The `fuckbigtech` executable under test.
public enum BuiltBinary {
    /// SwiftPM puts it in the same build folder as the test bundle; nil when it is not built.
    public static let found: String? = {
        var folders: [String] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            folders.append((exe as NSString).deletingLastPathComponent)
        }
        folders.append(Bundle.main.bundleURL.deletingLastPathComponent().path)
        folders.append(Bundle.main.bundleURL.path)
        folders.append((CommandLine.arguments[0] as NSString).deletingLastPathComponent)
        return folders.map { $0 + "/fuckbigtech" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// The executable's path; throws (so the test fails) when it is not built.
    public static func path() throws -> String {
        guard let found else { throw TestSupportError("no fuckbigtech executable next to the test bundle; run 'swift build' first") }
        return found
    }
}

/// A test helper's own failure, with a one-line message saying what is missing or went wrong.
public struct TestSupportError: Error, CustomStringConvertible {
    /// The message.
    public let description: String

    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}
