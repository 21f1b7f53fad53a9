import Foundation
import Testing
@testable import AgentOS

@Suite struct TaskFactsTests {
    @Test func readsTheTaskPropertiesAndInlineTags() {
        let v = RouteTestVault()
        let text = """
        ---
        title: Fix the login
        tags: ["#Backend", code]
        privacy: Public
        effects: [read, Write]
        lane: premium
        agent: claude
        model: opus
        approved: true
        budget_usd: 0.75
        ---
        Fix the login bug. #urgent and not a # heading, nor a url https://x.org/#frag
        """
        v.write("Tasks/Work/Fix.md", text)
        // Straight from the note (not through the test vault's helper, which stands in a verified approval).
        let f = TaskFacts.from(note: try! Note.parse(text), path: "Tasks/Work/Fix.md", vault: v.vault, ruleBook: v.book)
        #expect(f.path == "Tasks/Work/Fix.md")
        #expect(f.folder == "Tasks/Work")
        #expect(f.title == "Fix the login")
        #expect(f.type == "task")
        #expect(f.tags == ["backend", "code", "urgent"])
        #expect(f.privacy == "public")
        #expect(f.effects == ["read", "write"])
        #expect(f.lane == "premium")
        #expect(f.agent == "claude")
        #expect(f.model == "opus")
        #expect(!f.approved, "a note's own approved: true is a claim; only a verified approval sets it")
        #expect(f.budgetUSD == 0.75)
        #expect(f.privateSources.isEmpty)
    }

    @Test func followsContextAndBodyLinksTheWayObsidianResolvesThem() {
        let v = RouteTestVault()
        v.write("Memory/Project.md", "The project.\n")
        v.write("Memory/People/Ann.md", "---\ntags: [private]\n---\nAnn.\n")
        v.write("Tasks/Sibling.md", "A sibling.\n")
        v.write("Private/Plans.md", "Plans.\n")
        v.write("Memory/Broken.md", "---\ntags: [unclosed\n---\n")
        let f = v.facts("Tasks/t.md", """
        ---
        context: ["[[Memory/Project]]", "Memory/People/Ann.md"]
        ---
        See [[Sibling]], [[Ann|our contact]], [[Project#Goals]], [plans](../Private/Plans.md),
        [[Private/Missing]], [[Broken]], [site](https://example.com) and [[../../etc/passwd]].
        """)
        // Property links first, then the body's links in the order written, each once; the escape is dropped.
        #expect(f.contextPaths == ["Memory/Project.md", "Memory/People/Ann.md", "Tasks/Sibling.md", "Private/Plans.md", "Private/Missing.md", "Memory/Broken.md"])
        // Ann is tagged private; Plans and Missing are under Private/; Broken cannot be checked.
        #expect(f.privateSources == ["Memory/People/Ann.md", "Private/Plans.md", "Private/Missing.md", "Memory/Broken.md"])
    }

    @Test func barePromptsFollowTheirLinksToo() {
        let v = RouteTestVault()
        v.write("Memory/Salary.md", "---\nprivacy: private\n---\n1\n")
        let f = TaskFacts.from(text: "summarize [[Salary]] for the review", vault: v.vault, ruleBook: v.book)
        #expect(f.path == nil)
        #expect(f.type == "task")
        #expect(f.privateSources == ["Memory/Salary.md"])
        #expect(Privacy.reason(for: f, guardrails: v.book.guardrails)?.contains("Memory/Salary.md") == true)
    }

    @Test func privacyReasons() {
        let g = RouteTestVault().book.guardrails
        #expect(Privacy.reason(path: "Tasks/a.md", privacy: nil, tags: [], guardrails: g) == nil)
        #expect(Privacy.reason(path: "Tasks/a.md", privacy: "confidential", tags: [], guardrails: g) == "privacy: confidential")
        #expect(Privacy.reason(path: "Tasks/a.md", privacy: "public", tags: ["private/health"], guardrails: g) == "tagged #private/health")
        #expect(Privacy.reason(path: "Tasks/a.md", privacy: nil, tags: ["#Personal"], guardrails: g) == "tagged #personal")
        #expect(Privacy.reason(path: "private/notes/a.md", privacy: "public", tags: [], guardrails: g) == "under Private/")
        #expect(Privacy.reason(path: "Journal/2026.md", privacy: nil, tags: [], guardrails: g) == "under Journal/")
        #expect(Privacy.reason(path: "Privateer/a.md", privacy: nil, tags: ["privately"], guardrails: g) == nil)
    }
}
