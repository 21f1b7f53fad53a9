import Foundation
import Testing
import TestSupport
@testable import AgentOS

/// What a caller off this machine (a cloud agent's run, a cloud-scoped MCP server) is told when a
/// note is withheld: the reason, never the name of the private note behind it.
@Suite struct NoteVisibilityTests {
    @Test func aWithheldNoteNamesNoOtherPrivateNote() throws {
        let root = TemporaryFolder.make("fbt-visibility")
        defer { TemporaryFolder.remove(root) }
        for folder in [".obsidian", "Private", "Tasks", "Memory"] {
            try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
        }
        func write(_ path: String, _ text: String) throws { try Data(text.utf8).write(to: URL(fileURLWithPath: root + "/" + path)) }
        try write("Private/Zebra plan.md", "---\nprivacy: private\n---\nZebra details\n")
        try write("Memory/Quagga notes.md", "---\nprivacy: private\n---\nQuagga details\n")
        try write("Tasks/Pub.md", "---\ntype: task\n---\nSummarise [[Zebra plan]]\n")
        try write("Tasks/Aliased.md", "---\ntype: task\ncontext: [\"[[Quagga notes#Part]]\"]\n---\nGo\n")
        try write("Memory/Open.md", "Nothing private here\n")
        let visibility = NoteVisibility(vault: Vault(root: root), hiddenBecause: "served to agent claude on the premium lane")

        for (task, secretName) in [("Tasks/Pub.md", "Zebra"), ("Tasks/Aliased.md", "Quagga")] {
            let reason = try #require(visibility.withholding(task), "\(task) pulls in a private note and must be withheld")
            #expect(reason == "made from or pulls in a private note")
            #expect(!reason.contains(secretName))
        }
        // A private note asked for by its own path: the reason may say why (the caller named it).
        #expect(visibility.withholding("Private/Zebra plan.md") != nil)
        #expect(visibility.withholding("Memory/Open.md") == nil)
        // The same caller on this machine sees everything.
        #expect(NoteVisibility(vault: Vault(root: root), hiddenBecause: nil).withholding("Tasks/Pub.md") == nil)
    }

    /// Attack (left open by the second round): with scores hidden, the ORDER of a search still told a
    /// cloud agent whether a note it cannot see holds a word. It writes two notes of its own, alike
    /// but for one probe word each, searches `probe OR control`, and the note whose word other notes
    /// also hold (lower IDF) comes second. Off this machine every word weighs the same, so adding
    /// private notes (or notes holding a secret) that hold the probe word changes nothing it sees;
    /// a person's search still ranks by the whole vault.
    @Test func theOrderOfACloudCallersHitsSaysNothingOfNotesItCannotSee() throws {
        let root = TemporaryFolder.make("fbt-visibility-order")
        defer { TemporaryFolder.remove(root) }
        for folder in [".obsidian", "Private", "Memory"] {
            try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
        }
        func write(_ path: String, _ text: String) throws { try Data(text.utf8).write(to: URL(fileURLWithPath: root + "/" + path)) }
        // The agent's own two notes, and enough public filler that an IDF means something.
        try write("Memory/Probe one.md", "# Probe one\n\nWombat quokka7731 ledger quokka7731.\n")
        try write("Memory/Probe two.md", "# Probe two\n\nWombat zebra4242 ledger.\n")
        for i in 0..<30 { try write("Memory/Filler \(i).md", "# Filler \(i)\n\nNothing about the probes, note \(i).\n") }
        let vault = Vault(root: root)
        let cloud = NoteVisibility(vault: vault, hiddenBecause: "served to agent claude on the premium lane")
        let person = NoteVisibility(vault: vault, hiddenBecause: nil)
        func order(_ visibility: NoteVisibility) throws -> [String] {
            let index = try MemoryIndex(vault: vault)
            _ = try index.reconcile()
            return try visibility.search("quokka7731 OR zebra4242", in: index, limit: 10).map(\.path)
        }
        let cloudBefore = try order(cloud)
        let personBefore = try order(person)
        // The probe word is written twice in the first note: alone in the vault, it ranks first.
        #expect(cloudBefore == ["Memory/Probe one.md", "Memory/Probe two.md"], "\(cloudBefore)")
        #expect(personBefore == cloudBefore, "\(personBefore)")

        // Private notes that hold the first probe word, and a public one holding a secret.
        for i in 0..<6 { try write("Private/Diary \(i).md", "# Diary \(i)\n\nMy password hint is quokka7731, day \(i).\n") }
        try write("Memory/Keys.md", "# Keys\n\nquokka7731 token ghp_\(String(repeating: "aB3", count: 12))\n")
        let personAfter = try order(person)
        let cloudAfter = try order(cloud)
        // The oracle is real: a person's ranking moved (the probe word became common)...
        #expect(Array(personAfter.filter { $0.hasPrefix("Memory/Probe") }) == ["Memory/Probe two.md", "Memory/Probe one.md"], "\(personAfter)")
        #expect(personAfter.contains { $0.hasPrefix("Private/") })
        // ...and the cloud caller's is what it was, without the notes it cannot see.
        #expect(cloudAfter == cloudBefore, "\(cloudBefore) → \(cloudAfter)")
    }
}
