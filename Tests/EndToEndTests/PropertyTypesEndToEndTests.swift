import AgentOS
import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Obsidian keeps one type per property name across a vault. Every property of every note the OS
/// writes — task updates, results, handoffs, telemetry, daily notes, conflicts, memory-test reports —
/// must be registered in `.obsidian/types.json`, with values of that type.
@Suite(.serialized) struct PropertyTypesEndToEndTests {
    /// Whether a value is one Obsidian shows as `type` (an empty value fits any type).
    static func fits(_ value: PropertyValue, _ type: String) -> Bool {
        switch value {
        case .null: return true
        case .bool: return type == "checkbox"
        case .int, .double: return type == "number"
        case .string: return type == "text"
        case .date: return type == "date"
        case .datetime: return type == "datetime"
        case .list(let items): return ["multitext", "tags", "aliases"].contains(type) && items.allSatisfy { if case .string = $0 { return true }; return false }
        case .map: return false
        }
    }

    @Test func everyPropertyTheOSWritesIsRegisteredWithItsType() throws {
        let env = try WatchedVault()
        let typesJSON = try JSON.parse(try #require(env.text(".obsidian/types.json")))
        guard case .object(let pairs)? = typesJSON["types"] else {
            Issue.record("types.json has no types object")
            return
        }
        let types = Dictionary(pairs.map { ($0.0, $0.1.stringValue ?? "") }, uniquingKeysWith: { a, _ in a })
        let before = Set(Self.notes(in: env))

        try env.write("Memory/Auth design.md", "---\ntype: note\n---\n# Auth design\n\nTokens rotate.\n")
        // A local agent with a small budget that may cut: a long task is recorded as truncated.
        try env.write("Rules/Agents/short.md", "---\ntype: agent\nname: short\nlane: local\ncommand: [echo, \"{prompt}\"]\noutput: text\ncontext_tokens: 200\ntruncate: allow\n---\nA local echo with a small budget.\n")
        try env.start()
        try env.write("Tasks/Long.md", "---\nagent: short\n---\n" + String(repeating: "A long line of words about nothing in particular.\n", count: 100))
        // Done, failed, review (then approved), blocked, cancelled-free paths, a handoff, and a private task.
        try env.write("Tasks/Hello.md", "---\nagent: echo\n---\nSay hello.\n")
        try env.write("Tasks/Fails.md", "---\nagent: nosuchagent\n---\nThis agent does not exist.\n")
        try env.write("Tasks/Deploy.md", "---\nagent: echo\neffects: [deploy]\n---\nDeploy the site.\n")
        try env.write("Tasks/Secret.md", "---\nagent: claude\n---\nUse key sk-ant-api03-\(String(repeating: "a", count: 40)) now.\n")
        try env.write("Tasks/Private.md", "---\nagent: echo\nprivacy: private\n---\nA private chore.\n")
        try env.write("Tasks/Plan.md", "---\nagent: claude\n---\nPlan the token refresh. FIXTURE_MODE=handoff\n")
        try env.write("Tasks/Broken.md", "---\nagent: [echo\n---\nBroken.\n")
        let settled = eventually(within: 60, every: 0.05) {
            ["Tasks/Hello.md", "Tasks/Fails.md", "Tasks/Secret.md", "Tasks/Private.md", "Tasks/Plan.md", "Tasks/Long.md"].allSatisfy {
                ["done", "failed", "blocked"].contains(env.status($0) ?? "")
            } && env.status("Tasks/Deploy.md") == "review" && env.text("Tasks/Broken.md")?.contains("status: failed") == true
        }
        try #require(settled, "\(["Hello", "Fails", "Deploy", "Secret", "Private", "Plan", "Broken"].map { "\($0): \(env.status("Tasks/\($0).md") ?? "-")" })\n\(env.allLogs)")
        let review = try #require(env.text("Tasks/Deploy.md"))
        try env.writeInPlace("Tasks/Deploy.md", review.replacingOccurrences(of: "approved: false", with: "approved: true"))
        #expect(eventually(within: 30, every: 0.05) { env.status("Tasks/Deploy.md") == "done" }, "\(env.allLogs)")
        // A refused stale write leaves a conflict note; memory-test writes a report.
        let shown = try EndToEndTests.run(["note", "show", "Memory/Auth design.md", "--json", "--vault", env.root], in: env.sandbox)
        let hash = try #require(try JSON.parse(shown.stdout)["hash"]?.stringValue)
        try env.writeInPlace("Memory/Auth design.md", "---\ntype: note\n---\n# Auth design\n\nTokens rotate hourly.\n")
        _ = try EndToEndTests.run(["note", "set", "Memory/Auth design.md", "type=decision", "--expect", hash, "--vault", env.root], in: env.sandbox)
        _ = try EndToEndTests.run(["memory-test", "quick", "--vault", env.root], in: env.sandbox)
        _ = eventually(within: 20, every: 0.05) { env.text(TelemetryWriter.dailyPath(Date()))?.contains("Tasks/Deploy") == true }
        try env.stop(SIGTERM)

        var checked = 0
        var seenTypes: [String: String] = [:]
        for path in Self.notes(in: env) where !path.hasPrefix("Rules/") && !path.hasPrefix("Templates/") {
            let isNew = !before.contains(path)
            guard isNew || path.hasPrefix("Tasks/") || path.hasPrefix("Memory/"), let text = env.text(path), let note = try? Note.parse(text) else { continue }
            for property in note.properties {
                checked += 1
                guard let type = types[property.key] else {
                    Issue.record("\(path): property \(property.key) is not in types.json")
                    continue
                }
                #expect(Self.fits(property.value, type), "\(path): \(property.key) = \(property.value) is not a \(type)")
                seenTypes[property.key] = type
            }
        }
        #expect(checked > 100, "only \(checked) properties were checked")
        for key in ["route_verdicts", "handoffs", "approved_by", "approved_at", "date", "created", "sources", "result", "context_truncated", "context_tokens_sent", "context_tokens_left_out"] {
            #expect(seenTypes[key] != nil, "no note the OS wrote had \(key): the scenario did not cover it")
        }
    }

    static func notes(in env: WatchedVault) -> [String] {
        let base = env.root
        var found: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: base)
        while let relative = enumerator?.nextObject() as? String {
            if relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
            if relative.hasSuffix(".md") { found.append(relative) }
        }
        return found.sorted()
    }
}
