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
        // A name with an accent, linked as typed (composed); an image embedded by its name.
        v.write("Memory/Caf\u{E9}.md", "# Café\n")
        v.write("Inbox/Visit.md", "See [[Caf\u{E9}]] and ![[Photo.png]].\n")
        v.write("Attach/Photo.png", "PNG")
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

    /// Round 130: the name spelled with its accent decomposed (as macOS writes names) took the link
    /// too; a task's title took the name (`create_task {title: "Plan"}` made `Tasks/Plan.md`); and a
    /// note named after an image (`Notes/Photo.png.md`) became the person's "linked note" for
    /// `![[Photo.png]]`.
    @Test func spellingsTaskTitlesAndAttachmentNamesDoNotTakeALink() throws {
        let tools = MCPTools(vault: v.vault, scope: MCPScope(vault: v.vault, agent: "claude", environment: [:]))
        let nfd = create(tools, "Notes/Cafe\u{301}.md")
        #expect(nfd.refused && nfd.text.contains("which opens Memory/Caf"), "\(nfd.text)")
        // A task takes the next free name instead.
        let reply = tools.call("create_task", arguments: .object([("title", .string("Plan")), ("prompt", .string("Plan the week."))]))
        let made = reply.first { $0.0 == "structuredContent" }?.1["path"]?.stringValue
        #expect(made == "Tasks/Plan 2.md", "\(reply)")
        let run = try PrivacyTaintTests.run(of: "Tasks/Use.md", lane: "premium", in: v.vault)
        let inRun = FourthAttackTests.cli(["task", "new", "--title", "Plan", "Plan again."], v, runID: run)
        #expect(inRun.code == 0 && inRun.out.contains("Tasks/Plan 3.md") && !FileManager.default.fileExists(atPath: root + "/Tasks/Plan.md"), "\(inRun.out)")
        // A note named after the image `![[Photo.png]]` opens would take the link (a name is tried
        // with `.md` first): refused, and the packet keeps no agent's note for the image.
        let photo = create(tools, "Notes/Photo.png.md")
        #expect(photo.refused && photo.text.contains("Inbox/Visit.md links [[Photo.png]], which opens Attach/Photo.png"), "\(photo.text)")
        let packet = FourthAttackTests.cli(["context", "Inbox/Visit.md"], v, runID: nil)
        #expect(packet.code == 0 && !packet.out.contains("Linked note — Notes/Photo.png.md"), "\(packet.out)")
        // The person's links still open the person's notes.
        let use = FourthAttackTests.cli(["context", "Tasks/Use.md"], v, runID: nil)
        #expect(use.out.contains("A PERSON'S PLAN"), "\(use.out)")
    }

    /// Round 132: a person's task about a private image (`![[Xray.png]]`, `Private/Xray.png`) was
    /// made public by an agent's new `Notes/Xray.png.md`, which the link then opened (`.md` is
    /// tried first), and ran on claude. The note is made (refusing it would tell the agent a
    /// private image of that name is linked), and the file of that very name is judged with it.
    @Test func aNoteNamedAfterAPrivateImageLeavesTheTaskPrivate() throws {
        v.write("Private/Xray.png", "PNG")
        v.write("Tasks/Xray.md", "---\ntype: task\nagent: claude\n---\nDescribe ![[Xray.png]] please.\n")
        v.write("Tasks/Sketch.md", "---\ntype: task\nagent: claude\n---\nTidy ![[Sketch.excalidraw]].\n")
        v.write("Private/Sketch.excalidraw", "{}")
        // (At the vault's root, a note named so is the link's exact path.)
        v.write("Tasks/Zray.md", "---\ntype: task\nagent: claude\n---\nDescribe ![[Zray.png]] please.\n")
        v.write("Private/Zray.png", "PNG")
        _ = try MemoryIndex(vault: v.vault).reconcile()
        let before = v.facts("Tasks/Xray.md", try String(contentsOfFile: root + "/Tasks/Xray.md", encoding: .utf8)).privateSources
        #expect(before == ["Private/Xray.png"])
        let tools = MCPTools(vault: v.vault, scope: MCPScope(vault: v.vault, agent: "claude", environment: [:]))
        for name in ["Notes/Xray.png.md", "Notes/Sketch.excalidraw.md", "Zray.png.md"] {
            #expect(!create(tools, name).refused, "\(name)")
        }
        for task in ["Tasks/Xray.md", "Tasks/Sketch.md", "Tasks/Zray.md"] {
            let facts = v.facts(task, try String(contentsOfFile: root + "/" + task, encoding: .utf8))
            #expect(facts.privateSources.contains { $0.hasPrefix("Private/") }, "\(task): \(facts.privateSources)")
            let routed = FourthAttackTests.cli(["route", task], v, runID: nil)
            #expect(routed.out.contains("private"), "\(routed.out)")
        }
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
