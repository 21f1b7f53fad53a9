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
}
