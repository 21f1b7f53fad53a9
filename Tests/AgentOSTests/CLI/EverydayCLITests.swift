import Foundation
import TestSupport
import Testing
@testable import AgentOS
@testable import Commands

/// The traps a new user met (issue "Living with it every day"): vaults created by a typo, commands
/// without "did you mean", `--no-color` ignored, and templates that ran their placeholder.
@Suite struct EverydayCLITests {
    func run(_ arguments: [String], environment: [String: String] = [:], console given: (Console, CapturedOutput)? = nil) -> (code: Int32, out: String, err: String) {
        let (console, captured) = given ?? Console.capturing()
        let code = CLI.run(arguments, console: console, environment: environment, executablePath: "fuckbigtech")
        return (code, captured.stdout, captured.stderr)
    }

    @Test func aMistypedVaultIsNeverCreated() throws {
        let root = TemporaryFolder.make("fbt-novault")
        defer { TemporaryFolder.remove(root) }
        let missing = root + "/nope"
        for arguments in [["status"], ["task", "new", "hi"], ["search", "hello"], ["doctor"], ["index"], ["route", "hello"],
                          ["memory-test", "quick"], ["note", "show", "Tasks/x.md"], ["handoff", "--from", "a", "--to", "echo", "m"]] {
            let result = run(arguments + ["--vault", missing])
            #expect(result.code == 1, "\(arguments): \(result.err)")
            #expect(result.err.contains(missing) && result.err.contains("is not a vault") && result.err.contains("fuckbigtech init"), "\(arguments): \(result.err)")
            #expect(!FileManager.default.fileExists(atPath: missing), "\(arguments) created \(missing)")
        }
        // The same through $FBT_VAULT.
        let viaEnvironment = run(["status"], environment: ["FBT_VAULT": missing])
        #expect(viaEnvironment.code == 1 && viaEnvironment.err.contains("$FBT_VAULT"))
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    @Test func withoutTheDefaultVaultOnlyInitAndWatchCreateIt() throws {
        let home = TemporaryFolder.make("fbt-home")
        defer { TemporaryFolder.remove(home) }
        let result = run(["status"], environment: ["HOME": home])
        #expect(result.code == 1)
        #expect(result.err.contains(home + "/AgentOS") && result.err.contains("the default vault"))
        #expect(!FileManager.default.fileExists(atPath: home + "/AgentOS"))
        let created = run(["init"], environment: ["HOME": home])
        #expect(created.code == 0, "\(created.err)")
        #expect(run(["status"], environment: ["HOME": home]).code == 0)
    }

    @Test func anEmptyFolderIsNotAVaultButAFolderOfNotesIs() throws {
        let root = TemporaryFolder.make("fbt-folders")
        defer { TemporaryFolder.remove(root) }
        let empty = root + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let refused = run(["search", "anything", "--vault", empty])
        #expect(refused.code == 1 && refused.err.contains("no Markdown note"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty).isEmpty)

        let notes = root + "/notes"
        try FileManager.default.createDirectory(atPath: notes + "/sub", withIntermediateDirectories: true)
        try "# Kiwi\n\nA kiwi note.\n".replacingFile(notes + "/sub/Kiwi.md")
        let found = run(["search", "kiwi", "--vault", notes])
        #expect(found.code == 0, "\(found.err)")
        #expect(found.out.contains("Kiwi"))
    }

    @Test func memoryTestFailsOnAVaultWithoutNotes() throws {
        let root = TemporaryFolder.make("fbt-emptyvault")
        defer { TemporaryFolder.remove(root) }
        try FileManager.default.createDirectory(atPath: root + "/v/.obsidian", withIntermediateDirectories: true)
        let result = run(["memory-test", "quick", "--vault", root + "/v"])
        #expect(result.code == 1)
        #expect(result.err.contains("holds no notes"))
    }

    /// Tour 59 (low): `note show People/Anna Schmidt` (no `.md`, as a link writes it) printed
    /// "open …/People/Anna Schmidt: No such file or directory"; a path that names no note likewise.
    @Test func noteShowTakesAPathWithoutMDAndNamesAMissingNoteInWords() throws {
        let root = TemporaryFolder.make("fbt-noteshow")
        defer { TemporaryFolder.remove(root) }
        _ = try VaultInit.run(vault: Vault(root: root))
        try FileManager.default.createDirectory(atPath: root + "/People", withIntermediateDirectories: true)
        try "# Anna\n\nANNAMARK\n".write(toFile: root + "/People/Anna Schmidt.md", atomically: false, encoding: .utf8)
        let shown = run(["note", "show", "People/Anna Schmidt", "--vault", root])
        #expect(shown.code == 0 && shown.out.contains("ANNAMARK"), "\(shown.err)")
        let missing = run(["note", "show", "People/Nobody", "--vault", root])
        #expect(missing.code == 1 && missing.err == "fuckbigtech note: no note at People/Nobody.md; give its path from the vault's root ('fuckbigtech search' finds it by its words)\n", "\(missing.err)")
    }

    @Test func mistypedCommandsAndOptionsGetASuggestion() {
        let command = run(["stauts"])
        #expect(command.code == 64 && command.err.contains("did you mean 'status'?"))
        let far = run(["frobnicate"])
        #expect(far.code == 64 && !far.err.contains("did you mean"))
        let option = run(["search", "x", "--limt", "3", "--vault", "/nonexistent-for-sure"])
        #expect(option.code == 64 && option.err.contains("did you mean --limit?"), "\(option.err)")
        #expect(Suggestion.closest(to: "memroy-test", among: CLI.commands.map(\.name)) == "memory-test")
        #expect(Suggestion.closest(to: "hand", among: CLI.commands.map(\.name)) == "handoff")
    }

    @Test func noColorTurnsColourOff() throws {
        let root = TemporaryFolder.make("fbt-color")
        defer { TemporaryFolder.remove(root) }
        _ = try VaultInit.run(vault: Vault(root: root + "/v"))
        try "# Kiwi\n\nA kiwi note.\n".replacingFile(root + "/v/Memory/Kiwi.md")
        func colouredConsole() -> (Console, CapturedOutput) {
            let captured = CapturedOutput()
            return (Console(out: { captured.appendOut($0) }, err: { captured.appendErr($0) }, useColor: true), captured)
        }
        let coloured = run(["search", "kiwi", "--vault", root + "/v"], console: colouredConsole())
        #expect(coloured.code == 0 && coloured.out.contains("\u{1B}["), "colour is on without the flag")
        let plain = run(["search", "kiwi", "--no-color", "--vault", root + "/v"], console: colouredConsole())
        #expect(plain.code == 0 && plain.out.contains("Kiwi") && !plain.out.contains("\u{1B}["))
    }
}
