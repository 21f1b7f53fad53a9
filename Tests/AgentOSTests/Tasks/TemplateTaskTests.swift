import Foundation
import Testing
@testable import AgentOS

/// A note made from the Task or Handoff template waits for the person, and never runs the template's
/// own instructions as a prompt.
@Suite(.serialized) struct TemplateTaskTests {
    /// What Obsidian's Templates plugin leaves in a note: the template with its variables filled.
    static func filled(_ template: String) throws -> String {
        let text = try #require(VaultTemplateFiles.all.first { $0.path == template }?.contents)
        return text.replacingOccurrences(of: "{{date:YYYY-MM-DD}}", with: "2026-12-02").replacingOccurrences(of: "{{time:HH:mm}}", with: "22:50")
    }

    @Test func aTaskFromTheTemplateWaitsAsADraftUntilThePersonSaysNew() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        // Obsidian first creates an empty note, then inserts the template: neither may run.
        try env.store.write("", to: "Tasks/From template.md", expecting: .absent)
        #expect(engine.consider(path: "Tasks/From template.md", wait: true) == .ignored)
        let template = try Self.filled("Templates/Task.md")
        let hash = try env.store.read("Tasks/From template.md").hash
        try env.store.write(template, to: "Tasks/From template.md", expecting: .hash(hash))
        #expect(engine.consider(path: "Tasks/From template.md", wait: true) == .ignored)
        let note = try env.note("Tasks/From template.md")
        #expect(note.text("status") == "draft")
        #expect(note["created"] == .string("2026-12-02T22:50"))

        // The person sets status: new without writing a prompt: still nothing to run.
        try env.store.updateProperties("Tasks/From template.md", set: [Property("status", .string("new")), Property("agent", .string("echo"))])
        #expect(engine.consider(path: "Tasks/From template.md", wait: true) == .ignored)
        #expect(try TaskNote(path: "Tasks/From template.md", snapshot: env.store.read("Tasks/From template.md"), note: env.note("Tasks/From template.md"), kind: .task).notReadyReason == "no prompt yet")

        // Then writes one: it runs, and the template's comment is not part of what the agent got.
        let current = try env.store.read("Tasks/From template.md")
        try env.store.write(current.text + "Say hello in Welsh.\n", to: "Tasks/From template.md", expecting: .hash(current.hash))
        guard case .started = engine.consider(path: "Tasks/From template.md", wait: true) else {
            Issue.record("the finished task did not start")
            return
        }
        engine.waitUntilIdle()
        let done = try env.note("Tasks/From template.md")
        #expect(done.text("status") == "done")
        let result = try env.text(try #require(done.text("result")).replacingOccurrences(of: "[[", with: "").replacingOccurrences(of: "]]", with: "") + ".md")
        #expect(result.contains("Say hello in Welsh."))
        #expect(!result.contains("Write the prompt below"))
    }

    @Test func aHandoffFromTheTemplateWithEmptySectionsDoesNotRun() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        var text = try Self.filled("Templates/Handoff.md")
        text = text.replacingOccurrences(of: "status: draft", with: "status: new").replacingOccurrences(of: "to:\n", with: "to: echo\n")
        try env.store.write(text, to: "Handoffs/Empty.md", expecting: .absent)
        #expect(engine.consider(path: "Handoffs/Empty.md", wait: true) == .ignored)
        let note = try env.note("Handoffs/Empty.md")
        #expect(TaskNote(path: "Handoffs/Empty.md", snapshot: try env.store.read("Handoffs/Empty.md"), note: note, kind: .handoff).notReadyReason == "no prompt yet (only empty headings)")
    }

    @Test func commentsAreRemovedAndHeadingsAreToldFromTags() {
        #expect(TaskNote.removingComments("a %% hidden %% b") == "a  b")
        #expect(TaskNote.removingComments("a %% never closed\nb") == "a ")
        #expect(TaskNote.removingComments("100% sure") == "100% sure")
        #expect(TaskNote.isHeading("## Done"))
        #expect(!TaskNote.isHeading("#todo fix this"))
        #expect(!TaskNote.isHeading("####### seven"))
    }
}
