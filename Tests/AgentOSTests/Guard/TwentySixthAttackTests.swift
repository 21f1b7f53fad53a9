import Foundation
import Testing
import TestSupport
@testable import AgentOS

/// The twenty-sixth outside attack on the release binary (`/work/attack62-report.md`), each
/// finding written as the attack it was.
@Suite struct TwentySixthAttackTests {
    /// Attack (medium, a regression of round 25's rough cut): a link split by the 16,000-byte cut
    /// was not read as one; with a long private link before it shrunk to the placeholder, the
    /// split one came under the last cut and went out (`[[Cancer diagnosis PRIVTITLE`, a Markdown
    /// destination, an Obsidian URL, an `href`, a bare path). The unjudged tail goes.
    @Test(arguments: ["[[Cancer diagnosis PRIVTITLE]]", "[x](Memory/Cancer%20diagnosis%20PRIVTITLE.md)", "obsidian://open?vault=v&file=Memory%2FCancer%20diagnosis%20PRIVTITLE",
                      "<a href=\"Memory/Cancer diagnosis PRIVTITLE.md\">x</a>", "see Memory/Cancer diagnosis PRIVTITLE.md now"])
    func aLinkSplitByTheRoughCutDoesNotGoOut(_ link: String) throws {
        let v = RouteTestVault()
        v.writeStandardRules()
        v.write("Memory/Cancer diagnosis PRIVTITLE.md", "---\ntags: [private]\n---\n# Diagnosis\n\nPRIVATEBODY\n")
        // One paragraph (the rough cut falls inside it), and lines (it falls at a line's end).
        for lines in [false, true] {
            let head = "The wombat ledger reconciliation runs every Friday. [[Cancer diagnosis PRIVTITLE|" + String(repeating: "a ", count: 7_000) + "]] "
            let filler = lines ? String(repeating: "wombat ledger line\n", count: 80) : String(repeating: "w", count: 1_500)
            let pad = filler + String(repeating: "w", count: max(0, 16_000 - 14 - head.utf8.count - filler.utf8.count - 1 - 10))
            v.write("Memory/Cut ledger.md", "# Cut ledger\n\n" + head + pad + " " + link + " tail words\n")
            v.write("Tasks/Ask.md", "---\ntype: task\nagent: claude\n---\nExplain the wombat ledger reconciliation \(lines).\n")
            let plan = try PacketGuardrailsTests.plan(v, "Tasks/Ask.md")
            #expect(plan.action == .run, "\(plan.reason)")
            if lines { #expect(plan.prompt.contains("wombat ledger reconciliation runs"), "no memory piece\n\(plan.prompt.prefix(400))") }
            #expect(!plan.prompt.contains("PRIVTITLE") && !plan.prompt.contains("Cancer"), "\(plan.prompt.suffix(600))")
        }
    }

    /// An alias holding `[[` itself, cut open: the link goes from its first `[[`.
    @Test func anOpenLinkGoesFromItsFirstBrackets() {
        #expect(ContextPacketBuilder.withoutOpenLink("see [[Cancer diagnosis|my [[ note") == "see ")
        #expect(ContextPacketBuilder.withoutOpenLink("see [[Done]] and obsidian://open?file=Cancer%20diag") == "see [[Done]] and ")
        #expect(ContextPacketBuilder.withoutOpenLink("see [[Done]] and obsidian://x then words") == "see [[Done]] and obsidian://x then words")
    }

    /// Attack (low-medium, older): a bare path to a private note whose name holds `' & ! + , = ~`
    /// with no space before it went out as written (`Memory/Dad's.md`, `|Memory/Q&A.md|`,
    /// `see Salary!.md`): form 5 does not read those marks, and a reading needed a space.
    @Test(arguments: ["Memory/Dad's.md", "|Memory/Q&A.md|", "see Salary!.md today", "x Memory/a+b=c~d.md", "“Memory/Mum’s.md”"])
    func aBarePathWithMarksIsHidden(_ text: String) {
        let names = ["Memory/Dad's.md", "Memory/Q&A.md", "Salary!.md", "Memory/a+b=c~d.md", "Memory/Mum’s.md"]
        let out = PrivateLinks.redacting(text, in: "Memory/Forms.md", candidates: { found in
            found.map { link in names.filter { $0 == link.target || $0 == link.target + ".md" } }
        }, isPrivate: { names.contains($0) }).text
        #expect(out.contains(PrivateLinks.placeholder) && !out.contains("Dad") && !out.contains("Q&A") && !out.contains("Salary") && !out.contains("b=c") && !out.contains("Mum"), "\(text) → \(out)")
    }

    /// Attack (medium): thousands of private links and Obsidian URLs read with their words: the
    /// readings that mean private notes were merged by a search of all chosen so far for each.
    /// They merge in one sorted pass; every one still goes.
    @Test func manyPrivateLinksAreEachHidden() {
        let text = String(repeating: "[[Diary]] obsidian://open?vault=w&file=Cancer diagnosis PRIVTITLE ", count: 3_000)
        let out = PrivateLinks.redacting(text, in: "Memory/Links.md", candidates: { found in
            found.map { $0.target.hasPrefix("Diary") || $0.target.hasPrefix("Cancer diagnosis") ? ["Memory/Secret.md"] : [] }
        }, isPrivate: { $0 == "Memory/Secret.md" }).text
        #expect(!out.contains("Diary") && !out.contains("PRIVTITLE"), "\(out.prefix(300))")
    }
}
