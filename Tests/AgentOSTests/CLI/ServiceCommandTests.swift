import Foundation
import TestSupport
import Testing
@testable import AgentOS
@testable import Commands

/// `service install|uninstall|status`: a unit systemd accepts, written and removed idempotently,
/// started through the service manager.
@Suite struct ServiceCommandTests {
    static let awkward = ServiceUnit(executable: "/opt/fbt bin/fuckbigtech", vault: "/home/ann/My Vault 100%", path: "/opt/fbt bin:/usr/bin:/bin", home: "/home/ann")

    @Test func theSystemdUnitQuotesPathsAndEscapesSpecifiers() {
        let unit = Self.awkward.systemdUnit
        #expect(unit.contains(#"ExecStart="/opt/fbt bin/fuckbigtech" watch --vault "/home/ann/My Vault 100%%""#))
        #expect(unit.contains(#"Environment="PATH=/opt/fbt bin:/usr/bin:/bin""#))
        #expect(unit.contains("Restart=on-failure") && unit.contains("StandardOutput=journal") && unit.contains("WantedBy=default.target"))
        #expect(ServiceUnit.systemdQuote(#"a"b\c$d"#) == #""a\"b\\c$$d""#)
        // `$` means a variable on a command line only: in `Environment=` it is written once (an
        // outside attack: a vault path with `$` reached the watcher as `$$`).
        let dollar = ServiceUnit(executable: "/opt/fbt", vault: "/v/a$HOME%", path: "/opt/a$b:/bin", home: "/h").systemdUnit
        #expect(dollar.contains(#"ExecStart="/opt/fbt" watch --vault "/v/a$$HOME%%""#), "\(dollar)")
        #expect(dollar.contains(#"Environment="FBT_VAULT=/v/a$HOME%%""#) && dollar.contains(#"Environment="PATH=/opt/a$b:/bin""#), "\(dollar)")
        // The same vault always gets the same name; another vault another.
        #expect(Self.awkward.name.hasPrefix("fuckbigtech-my-vault-100--"))
        var other = Self.awkward
        other.vault = "/home/ann/Other"
        #expect(other.name != Self.awkward.name)
    }

    @Test(.enabled(if: ExternalTool.canRun("systemd-analyze"), "needs systemd-analyze (Debian package systemd; .ci/run installs it)"))
    func systemdAnalyzeAcceptsTheUnit() throws {
        let systemdAnalyze = try ExternalTool.require("systemd-analyze")
        let folder = TemporaryFolder.make("fbt-unit")
        defer { TemporaryFolder.remove(folder) }
        // A real executable at the path, with a space in it: verify checks that ExecStart exists.
        try FileManager.default.createDirectory(atPath: folder + "/fbt bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/bin/true", toPath: folder + "/fbt bin/fuckbigtech")
        let unit = ServiceUnit(executable: folder + "/fbt bin/fuckbigtech", vault: folder + "/My Vault 100%", path: "/usr/bin:/bin", home: folder)
        let file = folder + "/" + unit.name + ".service"
        try unit.systemdUnit.replacingFile(file)
        let result = try ChildProcess.run(systemdAnalyze, ["verify", file], environment: ["PATH": "/usr/bin:/bin"])
        let said = result.stderr + result.stdout
        #expect(result.code == 0 && !result.timedOut, "\(said)")
        // systemd only warns (exit 0) about settings it cannot parse: any word about our file is a failure.
        #expect(!said.contains(unit.name), "\(said)")
    }

    @Test func theLaunchdPlistIsAPropertyListPythonReads() throws {
        let folder = TemporaryFolder.make("fbt-plist")
        defer { TemporaryFolder.remove(folder) }
        var unit = Self.awkward
        unit.vault = "/Users/ann/A & B <vault>"
        try unit.launchdPlist.replacingFile(folder + "/u.plist")
        let script = "import plistlib,sys,json; d=plistlib.load(open(sys.argv[1],'rb')); print(json.dumps([d['Label'], d['ProgramArguments'], d['KeepAlive']['SuccessfulExit'], d['EnvironmentVariables']['PATH']]))"
        let result = try ChildProcess.run(try ExternalTool.require("python3"), ["-c", script, folder + "/u.plist"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(result.code == 0 && !result.timedOut, "\(result.stderr)")
        let parsed = try JSON.parse(result.stdout)
        #expect(parsed == .array([.string(unit.launchdLabel), .array([.string("/opt/fbt bin/fuckbigtech"), .string("watch"), .string("--vault"), .string("/Users/ann/A & B <vault>")]), .bool(false), .string("/opt/fbt bin:/usr/bin:/bin")]))
    }

    @Test func installWritesTheUnitOnceStartsItAndUninstallRemovesIt() throws {
        let root = TemporaryFolder.make("fbt-service")
        defer { TemporaryFolder.remove(root) }
        let home = root + "/home"
        _ = try VaultInit.run(vault: Vault(root: root + "/vault"))
        // A stand-in systemctl that records its arguments (the real one needs a user session).
        try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
        try "#!/bin/sh\necho \"$@\" >> \"\(root)/systemctl.log\"\n".replacingFile(root + "/bin/systemctl")
        chmod(root + "/bin/systemctl", 0o755)
        let environment = ["HOME": home, "PATH": root + "/bin:/usr/bin:/bin"]
        func run(_ arguments: [String]) -> (code: Int32, out: String, err: String) {
            let (console, captured) = Console.capturing()
            let code = CLI.run(["service"] + arguments + ["--vault", root + "/vault"], console: console, environment: environment, executablePath: "/opt/fbt/fuckbigtech")
            return (code, captured.stdout, captured.stderr)
        }
        let first = run(["install"])
        #expect(first.code == 0, "\(first.err)")
        let unitFile = try #require(first.out.split(separator: "\n").first { $0.hasPrefix("wrote ") }.map { String($0.dropFirst(6)) })
        #expect(unitFile.hasPrefix(home + "/.config/systemd/user/fuckbigtech-vault-") && unitFile.hasSuffix(".service"))
        let text = try String(contentsOfFile: unitFile, encoding: .utf8)
        #expect(text.contains(#"ExecStart="/opt/fbt/fuckbigtech" watch --vault "\#(root)/vault""#))
        #expect(text.contains("PATH=/opt/fbt:" + root + "/bin:/usr/bin:/bin"), "the binary's folder leads the PATH the agents get")
        let second = run(["install"])
        #expect(second.code == 0 && second.out.contains("already up to date"))
        #expect(run(["status"]).out.contains("installed (\(unitFile))"))
        #expect(run(["uninstall"]).code == 0)
        #expect(!FileManager.default.fileExists(atPath: unitFile))
        #expect(run(["status"]).out.contains("not installed"))
        let log = try String(contentsOfFile: root + "/systemctl.log", encoding: .utf8)
        let name = (unitFile as NSString).lastPathComponent
        #expect(log.contains("--user enable --now \(name)") && log.contains("--user disable --now \(name)") && log.contains("--user daemon-reload"), "\(log)")
    }

    @Test func aFailingServiceManagerIsReportedWithTheCommandsToRunByHand() throws {
        let root = TemporaryFolder.make("fbt-service-fail")
        defer { TemporaryFolder.remove(root) }
        _ = try VaultInit.run(vault: Vault(root: root + "/vault"))
        try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
        try "#!/bin/sh\necho 'Failed to connect to bus: No medium found' >&2\nexit 1\n".replacingFile(root + "/bin/systemctl")
        chmod(root + "/bin/systemctl", 0o755)
        let (console, captured) = Console.capturing()
        let code = CLI.run(["service", "install", "--vault", root + "/vault"], console: console, environment: ["HOME": root + "/home", "PATH": root + "/bin:/usr/bin:/bin"], executablePath: "/opt/fbt/fuckbigtech")
        #expect(code == 1)
        #expect(captured.stderr.contains("Failed to connect to bus") && captured.stderr.contains("systemctl --user enable --now") && captured.stderr.contains("loginctl enable-linger"))
    }

    /// The binary is named as the person ran it: a symlink on `PATH` to a versioned build is kept
    /// (its target was written, so moving the link to a new version was silently not used: a
    /// tour); a name that finds another binary first, or none, gives the running file. The unit's
    /// `PATH` holds each folder once.
    @Test func theUnitNamesTheBinaryAsItWasRunAndEachPathFolderOnce() throws {
        let root = TemporaryFolder.make("fbt-invoked")
        defer { TemporaryFolder.remove(root) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/v1", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/other", withIntermediateDirectories: true)
        try "#!/bin/sh\n".replacingFile(root + "/v1/fuckbigtech")
        chmod(root + "/v1/fuckbigtech", 0o755)
        try fm.createSymbolicLink(atPath: root + "/bin/fuckbigtech", withDestinationPath: root + "/v1/fuckbigtech")
        try "#!/bin/sh\n".replacingFile(root + "/other/fuckbigtech")
        chmod(root + "/other/fuckbigtech", 0o755)
        let running = root + "/v1/fuckbigtech"
        #expect(CLI.invokedPath("fuckbigtech", running: running, environment: ["PATH": root + "/bin:/usr/bin"]) == root + "/bin/fuckbigtech")
        #expect(CLI.invokedPath(root + "/bin/fuckbigtech", running: running, environment: [:]) == root + "/bin/fuckbigtech")
        #expect(CLI.invokedPath("fuckbigtech", running: running, environment: ["PATH": root + "/other:" + root + "/bin"]) == running)
        #expect(CLI.invokedPath("fuckbigtech", running: running, environment: ["PATH": "/nonexistent"]) == running)

        _ = try VaultInit.run(vault: Vault(root: root + "/vault"))
        // A systemctl that answers as one with no user bus does: nothing real is enabled.
        try fm.createDirectory(atPath: root + "/fake", withIntermediateDirectories: true)
        try "#!/bin/sh\necho 'Failed to connect to bus: No medium found' >&2\nexit 1\n".replacingFile(root + "/fake/systemctl")
        chmod(root + "/fake/systemctl", 0o755)
        let (console, _) = Console.capturing()
        _ = CLI.run(["service", "install", "--vault", root + "/vault"], console: console,
                    environment: ["HOME": root + "/home", "PATH": root + "/fake:/usr/bin:/bin:/usr/bin:" + root + "/fake"], executablePath: root + "/bin/fuckbigtech")
        let units = (try? fm.contentsOfDirectory(atPath: root + "/home/.config/systemd/user")) ?? []
        let unit = try String(contentsOfFile: root + "/home/.config/systemd/user/" + (units.first { $0.hasSuffix(".service") } ?? "none"), encoding: .utf8)
        #expect(unit.contains("ExecStart=\"\(root)/bin/fuckbigtech\""), "\(unit)")
        let pathLine = try #require(unit.split(separator: "\n").first { $0.hasPrefix("Environment=\"PATH=") })
        let folders = pathLine.dropFirst("Environment=\"PATH=".count).dropLast().split(separator: ":")
        #expect(folders.count == Set(folders).count, "\(pathLine)")
    }
}
