import Foundation
import TestSupport
import Testing
@testable import AgentOS
@testable import Commands

/// Round 126 (F4, medium): an agent's `write_note {create: true}` of `Notes/plan.md` beside nothing
/// in its own folder, but with the person's `Memory/Plan.md` elsewhere, left the person's `[[Plan]]`
/// opening neither note (two equally near), and the packet of the person's task carried the agent's
/// note as memory in place of the person's linked plan. A note in the linking note's own folder
/// (`Projects/Plan.md` for `Projects/Roadmap.md`) would have opened itself. A new note from an agent may not change what a
/// person's link opens.
@Suite struct TakenLinkTests {
    let v = RouteTestVault()
    var root: String { v.root }

    init() throws {
        v.write("Memory/Plan.md", "# Plan\nA PERSON'S PLAN\n")
        v.write("Tasks/Use.md", "---\ntype: task\nagent: claude\nstatus: done\n---\nFollow [[Plan]] and [[Ideas]].\n")
        v.write("Projects/Roadmap.md", "# Roadmap\nAs in [[Plan]].\n")
        // A link in the note's own folder, which a note at the vault's root would take (an exact path wins).
        v.write("Memory/Coffee.md", "# Coffee\n")
        v.write("Memory/Brew.md", "Brew as in [[Coffee]].\n")
        // A public note linking a private one by name.
        v.write("Memory/Week.md", "This week: [[Diary]].\n")
        // A private note and the private note linking it by name.
        v.write("Private/Diary.md", "# Diary\nPRIVATE\n")
        v.write("Private/Index.md", "See [[Diary]].\n")
        _ = try MemoryIndex(vault: v.vault).reconcile()
    }

    func create(_ tools: MCPTools, _ path: String) -> (refused: Bool, text: String) {
        let reply = tools.call("write_note", arguments: .object([("path", .string(path)), ("text", .string("AGENT TEXT\n")), ("create", .bool(true))]))
        let text = reply.first { $0.0 == "content" }?.1.arrayValue?.first?["text"]?.stringValue ?? ""
        return (reply.first { $0.0 == "isError" }?.1.boolValue == true, text)
    }

    @Test func anAgentCannotMakeANoteThatTakesAPersonsLink() throws {
        let tools = MCPTools(vault: v.vault, scope: MCPScope(vault: v.vault, agent: "claude", environment: [:]))
        let coffee = create(tools, "Coffee.md")
        #expect(coffee.refused && coffee.text.contains("Memory/Brew.md links [[Coffee]], which opens Memory/Coffee.md"), "\(coffee.text)")
        for path in ["Notes/plan.md", "Notes/Plan.md", "Projects/Plan.md", "Memory/Sub/PLAN.md"] {
            let answer = create(tools, path)
            #expect(answer.refused && answer.text.contains(" links [[Plan]], which opens Memory/Plan.md (and 1 more such link)"), "\(path): \(answer.text)")
            #expect(!FileManager.default.fileExists(atPath: root + "/" + path), "\(path)")
        }
        // The person's task still opens the person's plan.
        let packet = FourthAttackTests.cli(["context", "Tasks/Use.md"], v, runID: nil)
        #expect(packet.out.contains("A PERSON'S PLAN") && !packet.out.contains("AGENT TEXT"), "\(packet.out)")
    }

    /// A name no link opens yet (a link to a missing note is filled, as Obsidian fills one), or one
    /// only private notes link, is made: the refusal would tell a private note's name is linked.
    @Test func namesNoSeenLinkOpensAreMade() throws {
        let tools = MCPTools(vault: v.vault, scope: MCPScope(vault: v.vault, agent: "claude", environment: [:]))
        for path in ["Notes/Ideas.md", "Notes/Diary.md", "Notes/Fresh.md"] {
            let answer = create(tools, path)
            #expect(!answer.refused, "\(path): \(answer.text)")
        }
    }

    /// Inside a run, `note write --create` holds the same line; the person (no run) is not refused.
    @Test func theInRunCLIHoldsTheLineAndThePersonIsNotRefused() throws {
        let run = try PrivacyTaintTests.run(of: "Tasks/Use.md", lane: "premium", in: v.vault)
        let file = root + "/../agent-text.md"
        try "AGENT TEXT\n".replacingFile(file)
        let inRun = FourthAttackTests.cli(["note", "write", "Notes/plan.md", "--create", "--from", file], v, runID: run)
        #expect(inRun.code == 1 && inRun.out.contains("which opens Memory/Plan.md"), "\(inRun.out)")
        let person = FourthAttackTests.cli(["note", "write", "Notes/plan.md", "--create", "--from", file], v, runID: nil)
        #expect(person.code == 0, "\(person.out)")
    }
}
