import Foundation
import TestSupport
@testable import AgentOS

/// A vault in a fresh temp folder with the rule, agent and guardrails notes routing tests use,
/// written in the formats of the shipped `rules/` notes.
final class RouteTestVault {
    let root: String
    let vault: Vault

    init(rules: Bool = true) {
        root = TemporaryFolder.make("fbt-route")
        // A vault as Obsidian leaves it (commands refuse a folder that is not one).
        try! FileManager.default.createDirectory(atPath: root + "/.obsidian", withIntermediateDirectories: true)
        vault = Vault(root: root)
        if rules { writeStandardRules() }
    }

    deinit { TemporaryFolder.remove(root) }

    /// Writes a note (creating folders).
    func write(_ relative: String, _ text: String) {
        let path = root + "/" + relative
        try! FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! text.replacingFile(path)
    }

    func remove(_ relative: String) { try? FileManager.default.removeItem(atPath: root + "/" + relative) }

    var book: RuleBook { RuleBook.load(vault: vault) }

    /// Facts for a note written at `relative` with `text`. The router's own tests take the note's
    /// `approved: true` as a person's verified approval (the engine verifies it; see ApprovalTests).
    func facts(_ relative: String, _ text: String) -> TaskFacts {
        write(relative, text)
        let note = try! Note.parse(text)
        var facts = TaskFacts.from(note: note, path: relative, vault: vault, ruleBook: book)
        facts.approved = note["approved"]?.bool ?? false
        return facts
    }

    /// Routes a note written at `relative` (under `Tasks/` unless a folder is given).
    func route(_ relative: String, _ text: String, spend: SpendSnapshot? = nil) -> RoutingDecision {
        let f = facts(relative, text)
        return Router(book: book).decide(f, prompt: f.body, spend: spend)
    }

    /// Routes a bare prompt.
    func route(text: String, spend: SpendSnapshot? = nil) -> RoutingDecision {
        let f = TaskFacts.from(text: text, vault: vault, ruleBook: book)
        return Router(book: book).decide(f, prompt: f.body, spend: spend)
    }

    func writeStandardRules(guardrails extra: String = "") {
        write("Rules/Agents/claude.md", """
        ---
        type: agent
        name: claude
        lane: premium
        command: ["claude", "-p", "{prompt}", "--output-format", "json"]
        model_args: ["--model", "{model}"]
        readonly_args: ["--permission-mode", "plan"]
        output: claude-json
        model: sonnet
        price_in_per_mtok: 3
        price_out_per_mtok: 15
        max_cost_usd: 0.5
        timeout: 600
        ---
        Claude Code, headless.
        """)
        write("Rules/Agents/ollama.md", """
        ---
        type: agent
        name: ollama
        lane: local
        endpoint: http://localhost:11434
        output: ollama
        model: llama3.2
        price_in_per_mtok: 0
        price_out_per_mtok: 0
        ---
        """)
        write("Rules/Agents/browser.md", """
        ---
        type: agent
        name: browser
        lane: tool
        command: ["browser-agent", "{prompt}"]
        output: text
        ---
        """)
        write("Rules/Routing/Routine.md", """
        ---
        type: rule
        priority: 10
        when_keywords: [summarize, summarise, extract, classify, rename, translate, format, logs]
        lane: local
        ---
        Routine text work is done well and free by a local model.
        """)
        write("Rules/Routing/Deploys.md", """
        ---
        type: rule
        priority: 5
        when_keywords: [deploy, release]
        agent: claude
        effects: [deploy]
        ---
        Deploys need a person's go-ahead.
        """)
        write("Rules/Routing/Coding.md", """
        ---
        type: rule
        priority: 20
        when_keywords: [code, refactor, bug, fix, implement]
        lane: premium
        agent: claude
        fallback: local
        allow_effects: [write]
        ---
        Coding needs judgment.
        """)
        write("Rules/Routing/Browser.md", """
        ---
        type: rule
        priority: 30
        when_keywords: [screenshot, browser]
        lane: tool
        ---
        """)
        write("Rules/Guardrails.md", """
        ---
        type: guardrails
        budget_task_usd: 1
        budget_day_usd: 5
        budget_month_usd: 50
        budget_premium_day_usd: 4
        private_tags: [personal]
        private_folders: [Journal]
        default_lane: local
        default_agent: ollama
        \(extra)
        ---
        """)
    }
}
