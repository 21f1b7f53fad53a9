import Foundation

/// Programs outside the project that some tests run (shells, groff, systemd-analyze, the real `llm`).
/// Away from CI a missing one skips its test visibly, with the reason:
/// `@Test(.enabled(if: ExternalTool.canRun("zsh"), "needs zsh (.ci/run installs it)"))`, and the
/// test body takes the path with `try ExternalTool.require("zsh")`. In CI (`CI=true`), where
/// `.ci/run` installs every one of them, the test runs anyway, so a missing tool is a failure.
public enum ExternalTool {
    /// Whether this is a CI run (`CI=true`).
    public static var isCI: Bool {
        ProcessInfo.processInfo.environment["CI"]?.lowercased() == "true"
    }

    /// Where `.ci/run` installs the real `llm` with the llm-echo plugin.
    public static let llmVirtualEnvironment = "/tmp/fbt-venv/bin"

    /// Where `.ci/run` installs the real Hermes Agent (`pip install hermes-agent`) for its contract test.
    public static let hermesVirtualEnvironment = "/tmp/fbt-hermes/bin"

    /// The Python of the venv `.ci/run` makes with the official MCP SDK 1.x (`mcp<2`: the
    /// initialize handshake, up to protocol 2025-11-25).
    public static let mcpHandshakePython = "/tmp/fbt-mcp1/bin/python"
    /// The Python of the venv `.ci/run` makes with the current MCP SDK (2.x: `server/discover`,
    /// protocol 2026-07-28).
    public static let mcpStatelessPython = "/tmp/fbt-mcp/bin/python"

    /// The tool's path: the system folders, the venvs `.ci/run` makes for `llm` and `hermes`, then `$PATH`;
    /// nil when absent.
    public static func path(_ name: String) -> String? {
        var folders = ["/usr/bin", "/bin", "/usr/local/bin", llmVirtualEnvironment, hermesVirtualEnvironment]
        folders += (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        return folders.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// For `.enabled(if:)`: true when the tool is there, and always in CI (where absence must fail).
    public static func canRun(_ name: String, inCI: Bool = isCI) -> Bool {
        inCI || path(name) != nil
    }

    /// The tool's path; throws (so the test fails) when it is missing.
    public static func require(_ name: String) throws -> String {
        guard let found = path(name) else {
            throw TestSupportError("\(name) is not installed\(isCI ? " in CI" : ""); .ci/run installs it")
        }
        return found
    }
}
