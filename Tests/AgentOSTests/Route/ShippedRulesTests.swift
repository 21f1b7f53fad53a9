import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// The default rules shipped in `rules/` against the cases table shipped with them
/// (`rules/Routing Cases.md`): each prompt, routed as a task with no properties, gets its lane.
@Suite struct ShippedRulesTests {
    static let casesPath = RepositoryPaths.file("rules/Routing Cases.md")

    // The cases table ships in the repository: when it is missing the test fails (reading it throws).
    @Test func shippedRulesRouteEveryCaseToItsLane() throws {
        let v = RouteTestVault(rules: false)
        let shipped = URL(fileURLWithPath: RepositoryPaths.file("rules")).resolvingSymlinksInPath().path
        try FileManager.default.copyItem(atPath: shipped, toPath: v.root + "/Rules")
        let book = v.book
        #expect(book.problems.isEmpty, "\(book.problems)")
        #expect(book.builtInParts.isEmpty)
        let table = try String(contentsOfFile: Self.casesPath, encoding: .utf8)
        var checked = 0
        for line in table.components(separatedBy: "\n") where line.hasPrefix("| ") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 2, let lane = Lane(rawValue: cells[1]) else { continue }
            let decision = v.route(text: cells[0])
            #expect(decision.lane == lane, "\(cells[0]) → \(decision.lane) by \(decision.rule)")
            checked += 1
        }
        #expect(checked >= 10)
        let summarize = v.route(text: "summarize today's handoff")
        #expect(summarize.lane == .local)
        #expect(summarize.reason.contains(summarize.rule))
    }
}
