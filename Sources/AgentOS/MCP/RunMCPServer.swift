import Foundation

/// The MCP server one run is given when its agent note says `mcp: true`: this binary's
/// `mcp --vault V --agent NAME`, with `FBT_RUN_ID` set so that the server takes the run's lane
/// privacy and records its writes with the run id (see `MCPScope`).
///
/// How a CLI is told about the server lives in the agent note (`mcp_args`), not here; this type only
/// fills in its placeholders: `{mcp_config}` (a JSON file `{"mcpServers":{"fuckbigtech":…}}` written
/// into the run's own 0700 folder, for Claude Code's `--mcp-config`), and `{mcp_command}`,
/// `{mcp_args}`, `{mcp_env}` (the server's program, arguments and environment as TOML values, for
/// Codex's `-c mcp_servers.fuckbigtech.command=…` overrides).
public struct RunMCPServer: Sendable {
    /// The placeholders `mcp_args` may hold.
    public static let placeholders = ["{mcp_config}", "{mcp_command}", "{mcp_args}", "{mcp_env}"]
    /// The configuration file's name inside the run's folder (not `.mcp.json`, which Claude Code
    /// would also read as the project's own list).
    public static let configFileName = "fbt-mcp-config.json"

    /// The server's program: the absolute path of this binary.
    public let command: String
    /// Its arguments: `mcp --vault V --agent NAME`.
    public let arguments: [String]
    /// Its environment on top of what the CLI passes on: `FBT_RUN_ID`.
    public let environment: [(String, String)]
    /// Where the configuration file is (written by `writeConfig`).
    public let configPath: String

    /// The server for run `runID` of agent `agent` on `vault`, its configuration file in `folder`.
    public init(executable: String, vault: String, agent: String, runID: String, folder: String) {
        command = executable
        arguments = ["mcp", "--vault", vault, "--agent", agent]
        environment = [("FBT_RUN_ID", runID)]
        configPath = folder + "/" + Self.configFileName
    }

    /// The configuration file's text (Claude Code's `--mcp-config` layout).
    public var configJSON: String {
        let entry = JSON.object([
            ("type", .string("stdio")), ("command", .string(command)), ("args", .array(arguments.map { .string($0) })),
            ("env", .object(environment.map { ($0.0, .string($0.1)) })),
        ])
        return JSON.object([("mcpServers", .object([(MCPRegistration.serverName, entry)]))]).compact + "\n"
    }

    /// Writes the configuration file (0600, durably; it names the vault and the run).
    public func writeConfig() throws(SystemError) {
        try FileSystem.createDurably(configPath, bytes: Array(configJSON.utf8), mode: 0o600)
    }

    /// Removes the configuration file (so that an otherwise empty run folder can be removed).
    public func removeConfig() {
        try? FileSystem.remove(configPath)
    }

    /// `argument` with the MCP placeholders filled in. The TOML values are written as JSON strings
    /// and arrays (TOML basic strings escape as JSON does for what we write); the environment is a
    /// TOML inline table with quoted keys.
    public func fill(_ argument: String) -> String {
        var result = argument
        func toml(_ text: String) -> String { JSON.string(text).compact }
        let values = [
            ("{mcp_config}", configPath),
            ("{mcp_command}", toml(command)),
            ("{mcp_args}", "[" + arguments.map(toml).joined(separator: ", ") + "]"),
            ("{mcp_env}", "{" + environment.map { toml($0.0) + " = " + toml($0.1) }.joined(separator: ", ") + "}"),
        ]
        for (placeholder, value) in values where result.contains(placeholder) {
            result = result.replacingOccurrences(of: placeholder, with: value)
        }
        return result
    }

    /// The absolute path of the running binary (`/proc/self/exe`), the program a run's server is.
    public static var currentExecutable: String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    }
}
