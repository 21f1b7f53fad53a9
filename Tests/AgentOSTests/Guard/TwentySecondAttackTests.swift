import Foundation
import Testing
import TestSupport
@testable import AgentOS
@testable import Commands

/// The twenty-second outside attack on the release binary (`/work/attack55-report.md`), each
/// finding written as the attack it was.
@Suite(.serialized) struct TwentySecondAttackTests {
    /// Attack: a public note of `[x](` repeated (160 KB; a cloud agent wrote it over MCP) linked by
    /// a task: every Markdown destination was read to the note's end, and building the packet took
    /// half an hour (16 KB: 17 s), holding a routing thread; four such tasks stalled the watcher.
    /// A destination is read no deeper than 32 parentheses and no longer than a path can be, and
    /// a bare name is looked for no further back than that either (`a.md` repeated).
    @Test func aNoteOfUnclosedLinksIsReadInLinearTime() throws {
        let v = RouteTestVault()
        v.writeStandardRules()
        v.write("Memory/Diary.md", "---\ntags: [personal]\n---\n# Diary\n\nDear diary.\n")
        let unclosed = String(repeating: "[x](", count: 40_000)
        let ranges = PrivateLinks.destinations(in: unclosed as NSString)
        #expect(!ranges.isEmpty && ranges.allSatisfy { $0.range.length <= 4 * (PrivateLinks.deepestNesting + 1) }, "\(ranges.map(\.range.length).max() ?? 0)")
        let angled = PrivateLinks.destinations(in: (String(repeating: "[x](<", count: 2_000) + "[y](<Memory/Diary.md>)") as NSString)
        #expect(angled.allSatisfy { $0.range.length <= PrivateLinks.longestDestination } && angled.last?.link.target == "Memory/Diary.md")
        v.write("Memory/Links.md", "# Links\n\n" + unclosed + "\n" + String(repeating: "a.md", count: 40_000) + "\n")
        v.write("Tasks/Sum.md", "---\ntype: task\nagent: claude\n---\nSummarise [[Links]].\n")
        let plan = try PacketGuardrailsTests.plan(v, "Tasks/Sum.md")
        #expect(plan.action == .run, "\(plan.reason)")
        #expect(plan.prompt.contains("[x]([x]([x]("))
        // What a person writes after a comma is still read as a name: the private note's goes as
        // the placeholder (before, a reading across the comma was prose, and none started after it).
        let redacted = PrivateLinks.redacting("see x,Memory/Diary notes.md and (Memory/Diary notes.md)", in: "Memory/Links.md", candidates: { $0.map { [$0.target] } }, isPrivate: { $0.hasPrefix("Memory/Diary") })
        #expect(redacted.text == "see x,(a private note) and ((a private note))", "\(redacted.text)")
    }
}
