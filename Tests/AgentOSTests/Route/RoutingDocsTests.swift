import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// The examples in docs/routing.md are meant to be copied: each must load without a problem.
@Suite struct RoutingDocsTests {
    static let docsPath = RepositoryPaths.file("docs/routing.md")

    /// Every ```markdown block of the doc that has frontmatter.
    static func examples() throws -> [String] {
        let text = try String(contentsOfFile: docsPath, encoding: .utf8)
        var blocks: [String] = []
        var current: [String]?
        for line in text.components(separatedBy: "\n") {
            if current == nil, line == "```markdown" { current = []; continue }
            if current != nil, line == "```" { blocks.append(current!.joined(separator: "\n") + "\n"); current = nil; continue }
            current?.append(line)
        }
        return blocks.filter { $0.hasPrefix("---\n") }
    }

    @Test func copiedExamplesLoadWithoutProblemsAndRouteAsDescribed() throws {
        let blocks = try Self.examples()
        #expect(blocks.count >= 6)
        let v = RouteTestVault(rules: false)
        for (index, block) in blocks.enumerated() {
            let note = try Note.parse(block)
            switch note.text("type") {
            case "rule": v.write("Rules/Routing/Example \(index).md", block)
            case "agent": v.write("Rules/Agents/\(note.text("name")!).md", block)
            case "guardrails": v.write("Rules/Guardrails.md", block)
            default: continue
            }
        }
        // The doc's agents are claude only; the local agent comes from a note like the shipped one.
        v.write("Rules/Agents/ollama.md", "---\ntype: agent\nname: ollama\nlane: local\noutput: ollama\nmodel: llama3.2\n---\n")
        let book = v.book
        #expect(book.problems.isEmpty, "\(book.problems)")
        #expect(book.builtInParts.isEmpty)
        #expect(book.guardrails.privateFolders.contains("Clients/NDA"))
        #expect(book.guardrails.laneDayUSD[.premium] == 5)
        #expect(book.guardrails.secretPatterns == ["ACME-[0-9]{6}"])
        let summarize = v.route(text: "summarize today's handoff")
        #expect(summarize.lane == .local)
        #expect(summarize.reason.contains("matched keyword \"summarize\""))
        #expect(v.route(text: "refactor the parser").agent == "claude")
        #expect(v.route(text: "deploy the landing page").action.name == "review")
    }
}
