import Foundation
import Testing
import TestSupport
@testable import AgentOS
@testable import Commands

/// `fuckbigtech related NOTE|TEXT`.
@Suite struct RelatedCommandTests {
    @Test func showsWhatThePacketOfANoteRetrievesWithScores() throws {
        let env = try HandoffTests.vaultWithMemory()
        let (console, output) = Console.capturing()
        let code = CLI.run(["related", "--vault", env.vault.root, "Tasks/Fix login.md", "--json"], console: console, environment: [:], executablePath: "")
        #expect(code == 0)
        let json = try JSON.parse(output.stdout)
        #expect(json["for"]?.stringValue == "Tasks/Fix login.md")
        let hits = try #require(json["hits"]?.arrayValue)
        #expect(hits.first?["path"]?.stringValue == "Memory/Login decision.md")
        #expect((hits.first?["score"]?.doubleValue ?? 0) > 0)
        // The same notes, in the same order, as the packet's memory pieces (the private one aside).
        let snapshot = try env.store.read("Tasks/Fix login.md")
        let task = TaskNote(path: "Tasks/Fix login.md", snapshot: snapshot, note: try Note.parse(bytes: snapshot.bytes), kind: .task)
        let pieces = try VaultRouting(vault: env.vault).contextPacket(for: task, budgetTokens: 16_000).pieces.filter { $0.kind == .memory }.map(\.path)
        #expect(hits.compactMap { $0["path"]?.stringValue }.filter { $0 != "Memory/Salary.md" } == pieces)
    }

    @Test func takesTextThatNamesNoNote() throws {
        let env = try HandoffTests.vaultWithMemory()
        let (console, output) = Console.capturing()
        #expect(CLI.run(["related", "--vault", env.vault.root, "rotating", "refresh", "tokens"], console: console, environment: [:], executablePath: "") == 0)
        #expect(output.stdout.split(separator: "\n").first?.contains("Memory/Refresh tokens.md:") == true)
        let (quiet, empty) = Console.capturing()
        #expect(CLI.run(["related", "--vault", env.vault.root, "zebra", "xylophone"], console: quiet, environment: [:], executablePath: "") == 0)
        #expect(empty.stdout.isEmpty && empty.stderr.contains("nothing in memory is related"))
    }
}
