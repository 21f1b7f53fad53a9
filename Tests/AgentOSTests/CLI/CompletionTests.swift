import Foundation
import Testing
@testable import AgentOS
@testable import Commands

/// Completion scripts and the man page come from the commands' declarations: every shell parses its
/// script, bash completes what the parser accepts, and `docs/fuckbigtech.1` matches the code.
@Suite struct CompletionTests {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    func shell(_ name: String) -> String? {
        ["/usr/bin/" + name, "/bin/" + name].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    func run(_ executable: String, _ arguments: [String]) throws -> (code: Int32?, out: String, err: String) {
        let result = try Spawn.run(Spawn.Options(executable: executable, arguments: arguments, environment: ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()], timeout: 60))
        return (result.exitCode, String(decoding: result.stdout, as: UTF8.self), String(decoding: result.stderrTail, as: UTF8.self))
    }

    /// What bash offers after typing `words` (the last one being completed).
    func bashCompletes(_ words: [String]) throws -> [String] {
        let bash = try #require(shell("bash"))
        let script = Completion.bash(CLI.commands)
        let setWords = "COMP_WORDS=(" + words.map { "'\($0)'" }.joined(separator: " ") + "); COMP_CWORD=\(words.count - 1)"
        let result = try run(bash, ["-c", script + "\n" + setWords + "; _fuckbigtech; printf '%s\\n' \"${COMPREPLY[@]}\""])
        #expect(result.code == 0, "\(result.err)")
        return result.out.split(separator: "\n").map(String.init)
    }

    @Test func bashCompletesCommandsActionsAndEveryDeclaredOption() throws {
        #expect(try bashCompletes(["fuckbigtech", "mem"]) == ["memory-test"])
        #expect(try bashCompletes(["fuckbigtech", "note", "s"]) == ["show", "set"])
        #expect(try bashCompletes(["fuckbigtech", "memory-test", ""]).sorted() == ["full", "quick"])
        for spec in CLI.commands {
            let offered = Set(try bashCompletes(["fuckbigtech", spec.name, "--"]))
            for word in spec.flags.union(spec.options) {
                #expect(offered.contains(word), "\(spec.name) does not complete \(word)")
                // Every offered word is one the parser takes.
                #expect(throws: Never.self) { _ = try ParsedArguments.parse(spec.options.contains(word) ? [word, "x"] : [word], flags: spec.flags, options: spec.options, aliases: spec.aliases) }
            }
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/zsh"), "needs zsh (.ci/run installs it)"))
    func zshParsesItsScript() throws {
        let file = NSTemporaryDirectory() + "/fbt-\(UUID().uuidString).zsh"
        try Completion.zsh(CLI.commands).write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = try run("/usr/bin/zsh", ["-n", file])
        #expect(result.code == 0, "\(result.err)")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/fish"), "needs fish (.ci/run installs it)"))
    func fishCompletesFromItsScript() throws {
        let file = NSTemporaryDirectory() + "/fbt-\(UUID().uuidString).fish"
        try Completion.fish(CLI.commands).write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = try run("/usr/bin/fish", ["-c", "source \(file); complete -C 'fuckbigtech search --li'; complete -C 'fuckbigtech serv'"])
        #expect(result.code == 0, "\(result.err)")
        #expect(result.out.contains("--limit") && result.out.contains("service"), "\(result.out)")
    }

    @Test func completionNamesItsShellOrSuggestsOne() {
        let (console, captured) = Console.capturing()
        #expect(CLI.run(["completion", "bsh"], console: console, environment: [:], executablePath: "fuckbigtech") == 64)
        #expect(captured.stderr == "fuckbigtech completion: unknown action 'bsh'; did you mean 'bash'? use 'bash', 'zsh' or 'fish'\n")
    }

    /// `docs/fuckbigtech.1` is the rendered page; `FBT_REGENERATE_MAN=1` rewrites it (the test still
    /// fails that once).
    @Test func theManPageMatchesTheCommandsAndRenders() throws {
        let path = Self.packageRoot + "/docs/fuckbigtech.1"
        let rendered = ManPage.render(CLI.commands)
        if ProcessInfo.processInfo.environment["FBT_REGENERATE_MAN"] == "1" {
            try rendered.write(toFile: path, atomically: true, encoding: .utf8)
            Issue.record("rewrote \(path); run the tests again")
            return
        }
        let onDisk = try String(contentsOfFile: path, encoding: .utf8)
        #expect(onDisk == rendered, "docs/fuckbigtech.1 is stale: run FBT_REGENERATE_MAN=1 swift test --filter CompletionTests")
        for spec in CLI.commands { #expect(onDisk.contains(".SS \(ManPage.escape(spec.name))")) }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/groff") {
            let result = try run("/usr/bin/groff", ["-man", "-Tutf8", "-ww", "-z", path])
            #expect(result.code == 0 && result.err.isEmpty, "groff: \(result.err)")
        }
    }
}
