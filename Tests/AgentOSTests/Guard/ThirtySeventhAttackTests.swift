import Foundation
import Testing
import TestSupport
@testable import AgentOS

/// The thirty-seventh outside attack on the release binary (`/work/attack74-report.md`), each
/// finding written as the attack it was.
@Suite struct ThirtySeventhAttackTests {
    /// Attack (high): a note private by its own mark (`privacy: private`, an inline `#private`) had
    /// a sync tool's conflicting copy beside it, the other machine's older text without the mark;
    /// judged by its own bytes, the copy went whole into claude's packet, and to a cloud agent's
    /// search and reads. A copy is private when its note is, or when its note is gone.
    @Test func aConflictingCopyOfAPrivateNoteIsPrivate() throws {
        let env = try EngineTestVault()
        try env.store.write("# Scan results\nThe vexmri scan shows PRIVMRI a lesion.\n\n#private\n", to: "Memory/Scan.md", expecting: .absent)
        try env.writeAsAnotherProgram("# Scan results\nThe vexmri scan shows PRIVMRI a lesion.\n", to: "Memory/Scan.sync-conflict-20261206-031500-QWERTYU.md")
        try env.store.write("---\nprivacy: private\n---\n# Lab\nThe quexlab panel said PRIVLAB.\n", to: "Memory/Lab.md", expecting: .absent)
        try env.writeAsAnotherProgram("# Lab\nThe quexlab panel said PRIVLAB.\n", to: "Memory/Lab (Ana's conflicted copy 2026-12-06).md")
        // A copy whose note is gone cannot be judged by it.
        try env.writeAsAnotherProgram("# Gone\nThe zorbquux plan PRIVGONE.\n", to: "Memory/Gone.sync-conflict-20261206-031500-QWERTYU.md")
        // A copy of a plain note stays plain.
        try env.store.write("# Garden\nThe florbix beds need water. PLAINMARK\n", to: "Memory/Garden.md", expecting: .absent)
        try env.writeAsAnotherProgram("# Garden\nThe florbix beds need water. PLAINMARK\n", to: "Memory/Garden.sync-conflict-20261206-031500-QWERTYU.md")
        _ = try MemoryIndex(vault: env.vault).reconcile(progress: nil)

        let engine = try env.engine()
        let task = try env.writeTask("Ask", properties: "type: task\nagent: claude", body: "What do the vexmri scan, the quexlab panel, the zorbquux plan and the florbix beds say?")
        _ = engine.consider(path: task, wait: true)
        engine.waitUntilIdle()
        let packet = try #require(env.fixturePrompts().last)
        for mark in ["PRIVMRI", "PRIVLAB", "PRIVGONE"] { #expect(!packet.contains(mark), "\(mark) reached claude:\n\(packet)") }
        #expect(packet.contains("PLAINMARK"), "a copy of a plain note was left out too:\n\(packet)")

        let cloud = NoteVisibility(vault: env.vault, hiddenBecause: "served to agent claude on the premium lane")
        for copy in ["Memory/Scan.sync-conflict-20261206-031500-QWERTYU.md", "Memory/Lab (Ana's conflicted copy 2026-12-06).md", "Memory/Gone.sync-conflict-20261206-031500-QWERTYU.md"] {
            #expect(cloud.withholding(copy) != nil, "\(copy) is shown to a cloud agent")
        }
        #expect(cloud.withholding("Memory/Garden.sync-conflict-20261206-031500-QWERTYU.md") == nil)
    }

    /// Attack (medium): a number too large for an `Int` (`1e30`, twenty nines, `.nan`) in a task's
    /// `context_tokens` or `attempts`, an agent's `context_tokens`, `concurrency` or `retries`, or a
    /// rule's `when_max_chars`, stopped the process reading it (SIGILL): the watcher, at every
    /// start while the note was there, and `doctor`, `status`, `route`. Each is a problem with its
    /// note now, said on one line.
    @Test func hugeNumbersInNotesAreProblemsNotCrashes() throws {
        for value in ["1e30", "99999999999999999999", ".nan", "-1e30", ".inf"] {
            let (task, folder) = try GitSyncTests.task("---\nattempts: \(value)\ncontext_tokens: \(value)\nretries: \(value)\n---\nx\n")
            withExtendedLifetime(folder) {
                #expect(task.attempts == 0 && task.retries == 0, "\(value)")
                #expect(task.note["context_tokens"]?.wholeNumber == nil, "\(value)")
            }
        }
        let plain = try Note.parse("---\nn: 4000\n---\n")
        #expect(plain["n"]?.wholeNumber == 4000)

        let env = try EngineTestVault()
        for (key, value) in [("context_tokens", "1e30"), ("concurrency", "1e20"), ("retries", "1e20"), ("context_tokens", ".nan"), ("timeout", ".inf")] {
            try env.writeAsAnotherProgram("---\ntype: agent\nname: big\nlane: local\ncommand: [localw, \"{prompt}\"]\noutput: text\n\(key): \(value)\n---\n", to: "Rules/Agents/big.md")
            let book = RuleBook.load(vault: env.vault)
            #expect(book.problems.contains { $0.path == "Rules/Agents/big.md" && $0.message.contains(key) }, "\(key): \(value): \(book.problems)")
        }
        try FileManager.default.removeItem(atPath: env.vault.root + "/Rules/Agents/big.md")
        try env.writeAsAnotherProgram("---\ntype: rule\nname: badrule\nwhen_max_chars: 1e30\nlane: local\n---\n", to: "Rules/Routing/badrule.md")
        let book = RuleBook.load(vault: env.vault)
        #expect(book.problems.contains { $0.path == "Rules/Routing/badrule.md" && $0.message.contains("when_max_chars") }, "\(book.problems)")
        try FileManager.default.removeItem(atPath: env.vault.root + "/Rules/Routing/badrule.md")

        // The task with them runs (in this process: it would have stopped it).
        let engine = try env.engine()
        let path = try env.writeTask("Big", properties: "type: task\nagent: claude\ncontext_tokens: 99999999999999999999\nattempts: 1e30", body: "Summarize the notes.")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let text = try env.text(path)
        #expect(try env.note(path).text("status") == "done", "\(text)")
    }

    /// Attack (low): a title beginning `../` made `Tasks/.. etc x.md`, a hidden file no watcher,
    /// index or Obsidian reads, while `task new` and MCP's `create_task` said all was well.
    @Test func aTitleOfDotsAndSlashesMakesAVisibleNote() {
        #expect(NoteName.sanitize("../../etc/x") == "etc x")
        #expect(NoteName.sanitize(" . ./ .x") == "x")
        #expect(NoteName.sanitize("../..") == "Task")
        #expect(!NoteName.sanitize("./.hidden/../plan").hasPrefix("."))
    }
}
