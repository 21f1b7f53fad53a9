import Foundation
import Testing
import TestSupport
@testable import AgentOS

/// What a packet retrieves from memory: the vault's own notes, not the OS's bookkeeping.
@Suite struct PacketMemoryTests {
    /// A vault with 300 earlier tasks and their results (their words overlap the new task's), and a
    /// few notes a person wrote.
    static func busyVault() throws -> EngineTestVault {
        let env = try EngineTestVault()
        for n in 0..<300 {
            let words = ["prime numbers", "line summary", "three items", "deploy notes"][n % 4]
            try env.store.write("---\ntype: task\nstatus: done\nroute_reason: no rule matched; \(words)\nerror: exit 1 PATH=/usr/local/bin:/usr/bin\n---\nList \(words) for run \(n).\n", to: "Tasks/Earlier \(n).md", expecting: .absent)
            try env.store.write("---\ntype: result\n---\nHere are three \(words) from run \(n).\n", to: "Results/Earlier \(n) result.md", expecting: .absent)
        }
        try env.store.write("# Primes\n\nPrime numbers below twenty: 2, 3, 5, 7, 11, 13, 17, 19.\n", to: "Memory/Primes.md", expecting: .absent)
        try env.store.write("# Deploying\n\nDeploy with the release script; three steps.\n", to: "Memory/Deploying.md", expecting: .absent)
        _ = try MemoryIndex(vault: env.vault).reconcile(progress: nil)
        return env
    }

    static func packet(_ env: EngineTestVault, task path: String) throws -> ContextPacket {
        let snapshot = try env.store.read(path)
        let task = TaskNote(path: path, snapshot: snapshot, note: try Note.parse(bytes: snapshot.bytes), kind: .task)
        return try VaultRouting(vault: env.vault).contextPacket(for: task, budgetTokens: 16_000)
    }

    @Test func earlierTasksAndResultsAreNotMemoryByDefault() throws {
        let env = try Self.busyVault()
        let path = try env.writeTask("New", properties: "type: task", body: "List three prime numbers in one line.")
        let memory = try Self.packet(env, task: path).pieces.filter { $0.kind == .memory }
        #expect(!memory.isEmpty)
        let own = memory.filter { piece in Guardrails.osFolders.contains { piece.path.hasPrefix($0 + "/") } }
        #expect(Double(own.count) <= Double(memory.count) * 0.1)
        #expect(memory.first?.path == "Memory/Primes.md")
        // Nothing of the earlier tasks' bookkeeping (their `error:` with the PATH) is sent.
        #expect(!(try Self.packet(env, task: path).text.contains("PATH=")))
    }

    /// Attack: Obsidian comments were taken out of the task's own text only; a linked note's and a
    /// memory match's went to the agent as written (docs: comments are never sent to an agent).
    @Test func commentsInLinkedNotesAndMemoryPiecesAreNotSent() throws {
        let env = try EngineTestVault()
        try env.store.write("# Linked\n\nVisible linked text. %% LINKCOMMENT %%\n\n```c\nprintf(\"%%d\");\n```\n", to: "Memory/Linked.md", expecting: .absent)
        try env.store.write("# Pelicans\n\n%% MEMCOMMENT opened in the first section\n\n## Harbour\n\nstill MEMCOMMENT2 hidden %% Pelicans nest by the harbour wall.\n", to: "Memory/Pelicans.md", expecting: .absent)
        // A daily line's comment too (a second outside attack: `met Bob %% my real opinion %%`).
        try env.store.write(RunLines.marked("---\ntype: daily\n---\n# Today\n\n- 19:30 met Bob %% DAILYCOMMENT my real opinion of Bob %% about birds\n"), to: TelemetryWriter.dailyPath(Date()), expecting: .absent)
        _ = try MemoryIndex(vault: env.vault).reconcile(progress: nil)
        let path = try env.writeTask("Birds", properties: "type: task", body: "Where do pelicans nest by the harbour? See [[Linked]].")
        let packet = try Self.packet(env, task: path)
        #expect(packet.pieces.contains { $0.kind == .memory && $0.path == "Memory/Pelicans.md" }, "\(packet.pieces.map(\.path))")
        #expect(packet.text.contains("Pelicans nest by the harbour wall.") && packet.text.contains("Visible linked text."))
        #expect(packet.text.contains("printf(\"%%d\");"), "code keeps its %%")
        #expect(packet.text.contains("met Bob") && packet.text.contains("about birds"), "\(packet.text)")
        for marker in ["LINKCOMMENT", "MEMCOMMENT", "DAILYCOMMENT"] { #expect(!packet.text.contains(marker), "\(marker) sent:\n\(packet.text)") }
    }

    @Test func aLinkedResultIsStillInThePacket() throws {
        let env = try Self.busyVault()
        let path = try env.writeTask("Follow up", properties: "type: task", body: "Check [[Results/Earlier 3 result]] and list three prime numbers.")
        let pieces = try Self.packet(env, task: path).pieces
        #expect(pieces.contains { $0.kind == .linked && $0.path == "Results/Earlier 3 result.md" })
        #expect(!pieces.contains { $0.kind == .memory && $0.path.hasPrefix("Results/") })
    }

    @Test func memoryExcludeIsASettingOfTheGuardrailsNote() throws {
        let env = try Self.busyVault()
        // Without Results in the list, earlier answers are recalled.
        let kept = Guardrails.osFolders.filter { $0 != Vault.Layout.results }
        try env.store.updateProperties("Rules/Guardrails.md", set: [Property("memory_exclude", .list(kept.map { .string($0) }))])
        #expect(RuleBook.load(vault: env.vault).guardrails.memoryExclude == kept)
        let path = try env.writeTask("Recall", properties: "type: task", body: "Give me three deploy notes again.")
        let memory = try Self.packet(env, task: path).pieces.filter { $0.kind == .memory }
        #expect(memory.contains { $0.path.hasPrefix("Results/") })
        #expect(!memory.contains { $0.path.hasPrefix("Tasks/") })
    }

    @Test func theShippedGuardrailsListTheOSFolders() {
        #expect(Guardrails.shipped.memoryExclude == Guardrails.osFolders)
        #expect(Guardrails().memoryExclude == Guardrails.osFolders)
    }
}

/// The lines a memory piece is cut from, counted as the index's scanner counts them.
@Suite struct PacketLinesTests {
    @Test func linesAreCutAtNewlineBytes() {
        let bytes = Array("one\ntwo\r\nthree\n\nfive".utf8)
        #expect(ContextPacketBuilder.lines(of: bytes, from: 1, through: 1) == "one")
        #expect(ContextPacketBuilder.lines(of: bytes, from: 2, through: 3) == "two\r\nthree")
        #expect(ContextPacketBuilder.lines(of: bytes, from: 4, through: 4) == "")
        // Past the end: the piece stops at the last line; a start past it is no piece at all.
        #expect(ContextPacketBuilder.lines(of: bytes, from: 3, through: 99) == "three\n\nfive")
        #expect(ContextPacketBuilder.lines(of: bytes, from: 5, through: 5) == "five")
        #expect(ContextPacketBuilder.lines(of: bytes, from: 6, through: 9) == nil)
        #expect(ContextPacketBuilder.lines(of: Array("a\n".utf8), from: 2, through: 2) == "")
        #expect(ContextPacketBuilder.lines(of: [], from: 1, through: 3) == "")
        // Invalid UTF-8 is replaced, never a crash.
        #expect(ContextPacketBuilder.lines(of: [0x61, 0xFF, 0x0A, 0x62], from: 1, through: 1) == "a\u{FFFD}")
    }
}
