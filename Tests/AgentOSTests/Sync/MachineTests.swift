@testable import AgentOS
import Foundation
import Testing

/// Which machine takes which lane, from the machine notes in `Rules/`.
@Suite struct MachineTests {
    static let book = RuleBook.parse(notes: [
        ("Rules/Machines/gpu.md", "---\ntype: machine\nlanes: [local]\n---\n"),
        ("Rules/Machines/laptop.md", "---\nlanes: [premium]\nagents: [claude]\n---\n"),
        ("Rules/Machines/bad.md", "---\nmachine: ../x\n---\n"),
        ("Rules/Other.md", "---\ntype: machine\nmachine: server\n---\n"),
    ])

    @Test func machineNotesAreReadFromRules() {
        #expect(Self.book.machines.map(\.name) == ["gpu", "laptop", "server"])
        #expect(Self.book.machines[1].lanes == ["premium"] && Self.book.machines[1].agents == ["claude"])
        #expect(Self.book.problems.contains { $0.path == "Rules/Machines/bad.md" && $0.message.contains("contains a slash") })
    }

    @Test func aMachineServesWhatItsNoteLists() {
        let machines = Self.book.machines
        #expect(Machine.refusal(machine: "gpu", lane: "local", agent: "ollama", machines: machines) == nil)
        #expect(Machine.refusal(machine: "GPU", lane: "premium", agent: "claude", machines: machines)?.contains("machine GPU serves lanes local") == true)
        #expect(Machine.refusal(machine: "laptop", lane: "premium", agent: "codex", machines: machines) != nil)
        #expect(Machine.refusal(machine: "laptop", lane: "premium", agent: "claude", machines: machines) == nil)
        // A note with no lists serves everything; the human lane is everyone's (no agent runs there).
        #expect(Machine.refusal(machine: "server", lane: "tool", agent: "browser", machines: machines) == nil)
        #expect(Machine.refusal(machine: "gpu", lane: "human", agent: "", machines: machines) == nil)
    }

    @Test func aMachineWithoutANoteLeavesClaimedLanes() {
        let machines = Self.book.machines
        #expect(Machine.refusal(machine: "phone", lane: "local", agent: "ollama", machines: machines)?.contains("Rules/Machines/gpu.md claims") == true)
        #expect(Machine.refusal(machine: "phone", lane: "tool", agent: "browser", machines: machines) == nil)
        #expect(Machine.candidates(lane: "local", agent: "ollama", machines: machines) == ["gpu", "server"])
        #expect(Machine.candidates(lane: "tool", agent: "browser", machines: machines) == ["server", "any machine without a note"])
        #expect(Machine.refusal(machine: "any", lane: "local", agent: "ollama", machines: []) == nil)
    }

    @Test func theMachineNameComesFromTheEnvironmentOrTheHost() {
        #expect(Machine.currentName(environment: ["FBT_MACHINE": "desk"]) == "desk")
        let host = Machine.currentName(environment: [:])
        #expect(!host.isEmpty && !host.contains(".") && Machine.invalidNameReason(host) == nil)
        #expect(Machine.invalidNameReason(".hidden") != nil && Machine.invalidNameReason("") != nil)
    }

    @Test func theSyncNoteTurnsOnGitClaims() {
        let book = RuleBook.parse(notes: [("Rules/Sync.md", "---\ntype: sync\nsync: git\nremote: shared\n---\n")])
        #expect(book.sync == SyncSettings(mode: "git", remote: "shared"))
        let bad = RuleBook.parse(notes: [("Rules/Sync.md", "---\ntype: sync\nsync: dropbox\n---\n")])
        #expect(bad.sync == nil && bad.problems.contains { $0.message.contains("is not git, files or none") })
        #expect(RuleBook.parse(notes: []).sync == nil)
        // Every machine computes the same ref for a task's attempt; another attempt is another ref.
        #expect(GitClaims.ref(taskPath: "Tasks/A.md", attempt: 1) == GitClaims.ref(taskPath: "Tasks/A.md", attempt: 1))
        #expect(GitClaims.ref(taskPath: "Tasks/A.md", attempt: 1) != GitClaims.ref(taskPath: "Tasks/A.md", attempt: 2))
        #expect(GitClaims.ref(taskPath: "Tasks/A.md", attempt: 1).hasPrefix("refs/fbt-claims/"))
    }
}
