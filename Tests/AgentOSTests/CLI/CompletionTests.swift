import Foundation
import TestSupport
import Testing
@testable import AgentOS
@testable import Commands

/// Completion scripts and the man page come from the commands' declarations: every shell parses its
/// script, bash completes what the parser accepts, and `docs/fuckbigtech.1` matches the code.
@Suite struct CompletionTests {
    /// Runs a shell or groff with a minimal environment; `code` is nil when it did not exit normally.
    func run(_ executable: String, _ arguments: [String]) throws -> (code: Int32?, out: String, err: String) {
        let home = TemporaryFolder("fbt-home")
        let result = try ChildProcess.run(executable, arguments, environment: ["PATH": "/usr/bin:/bin", "HOME": home.path])
        return (result.timedOut || result.signalled ? nil : result.code, result.stdout, result.stderr)
    }

    /// What bash offers after typing `words` (the last one being completed).
    func bashCompletes(_ words: [String]) throws -> [String] {
        let bash = try ExternalTool.require("bash")
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

    @Test(.enabled(if: ExternalTool.canRun("zsh"), "needs zsh (.ci/run installs it)"))
    func zshParsesItsScript() throws {
        let zsh = try ExternalTool.require("zsh")
        let folder = TemporaryFolder("fbt-zsh")
        let file = folder.path + "/fuckbigtech.zsh"
        try Completion.zsh(CLI.commands).replacingFile(file)
        let result = try run(zsh, ["-n", file])
        #expect(result.code == 0, "\(result.err)")
    }

    @Test(.enabled(if: ExternalTool.canRun("fish"), "needs fish (.ci/run installs it)"))
    func fishCompletesFromItsScript() throws {
        let fish = try ExternalTool.require("fish")
        let folder = TemporaryFolder("fbt-fish")
        let file = folder.path + "/fuckbigtech.fish"
        try Completion.fish(CLI.commands).replacingFile(file)
        let result = try run(fish, ["-c", "source \(file); complete -C 'fuckbigtech search --li'; complete -C 'fuckbigtech serv'"])
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
    @Test func theManPageMatchesTheCommands() throws {
        let path = RepositoryPaths.file("docs/fuckbigtech.1")
        let rendered = ManPage.render(CLI.commands)
        if ProcessInfo.processInfo.environment["FBT_REGENERATE_MAN"] == "1" {
            try rendered.replacingFile(path)
            Issue.record("rewrote \(path); run the tests again")
            return
        }
        let onDisk = try String(contentsOfFile: path, encoding: .utf8)
        #expect(onDisk == rendered, "docs/fuckbigtech.1 is stale: run FBT_REGENERATE_MAN=1 swift test --filter CompletionTests")
        for spec in CLI.commands { #expect(onDisk.contains(".SS \(ManPage.escape(spec.name))")) }
    }

    /// groff renders `docs/fuckbigtech.1` with every warning on and prints none.
    @Test(.enabled(if: ExternalTool.canRun("groff"), "needs groff (Debian package groff-base; .ci/run installs it)"))
    func groffRendersTheManPageWithoutWarnings() throws {
        let groff = try ExternalTool.require("groff")
        let result = try run(groff, ["-man", "-Tutf8", "-ww", "-z", RepositoryPaths.file("docs/fuckbigtech.1")])
        #expect(result.code == 0 && result.err.isEmpty, "groff: \(result.err)")
    }
}
