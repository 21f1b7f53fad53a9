import Foundation
import Testing
import TestSupport
@testable import AgentOS

/// The twenty-fourth outside attack on the release binary (`/work/attack58-report.md`), each
/// finding written as the attack it was.
@Suite(.serialized) struct TwentyFourthAttackTests {
    /// Attack (medium): a linked note of `<a ` repeated: the HTML form read every tag to its `>`,
    /// to the note's end when none came (120 KB: 73 s a packet; a cloud agent wrote the note and
    /// four tasks over MCP and held a plain task 1 min 37 s). A tag is read no further than the
    /// next `<`, and the tag after it is still read.
    @Test func aTagIsReadNoFurtherThanTheNextTag() throws {
        let text = "<a <img <a href=\"Memory/Diary.md\">diary</a> and <img src=\"Memory/Diary.md\">"
        let matches = PrivateLinks.pattern.matches(in: text, range: NSRange(location: 0, length: (text as NSString).length))
        let tags = matches.map { (text as NSString).substring(with: $0.range(at: 3)) }.filter { !$0.isEmpty }
        #expect(tags == ["<a href=\"Memory/Diary.md\">diary</a>", "<img src=\"Memory/Diary.md\">"], "\(tags)")
        let redacted = PrivateLinks.redacting(text, in: "Memory/Links.md", candidates: { $0.map { [$0.target] } }, isPrivate: { $0 == "Memory/Diary.md" })
        #expect(redacted.text == "<a <img (a private note) and (a private note)", "\(redacted.text)")

        // Built into a packet: the note, 120 KB of `<a `, goes as it is.
        let v = RouteTestVault()
        v.writeStandardRules()
        v.write("Memory/Tags.md", "# Tags\n\n" + String(repeating: "<a ", count: 40_000) + "\n")
        v.write("Tasks/Sum.md", "---\ntype: task\nagent: claude\n---\nSummarise [[Tags]].\n")
        let plan = try PacketGuardrailsTests.plan(v, "Tasks/Sum.md")
        #expect(plan.action == .run, "\(plan.reason)")
        #expect(plan.prompt.contains("<a <a <a "))
    }

    /// Attack (medium): a reading of a bare name started after every mark of punctuation, each up
    /// to 4,096 units long: 4 KB of `,,,…,/ a.md` took 2.7 s, 30 such notes linked by one task
    /// 48 s. The nearest `readingsPerName` starts only are read (a name has fewer marks).
    @Test func aNameIsReadFromTheNearestStartsOnly() {
        var readings = 0
        let text = String(repeating: (String(repeating: ",", count: 600) + "/"), count: 6) + String(repeating: ",", count: 300) + " a.md"
        _ = PrivateLinks.redacting(text, in: "Memory/Links.md", candidates: { found in
            readings += found.count
            return found.map { [$0.target] }
        }, isPrivate: { _ in false })
        // (The nearest starts, and those at the text's first word: the start, up to three marks.)
        #expect(readings > 0 && readings <= PrivateLinks.readingsPerName + 5, "\(readings) readings")
        // A name whose own marks are more than that is still read from the word it starts with,
        // and one wrapped in marks from its first letter (a review).
        let marks = "Cancer x" + String(repeating: "_x", count: 40) + "_end"
        for text in ["see \(marks).md today", "see **\(marks).md** today"] {
            let hidden = PrivateLinks.redacting(text, in: "Memory/Links.md", candidates: { $0.map { [$0.target] } }, isPrivate: { $0 == marks || $0 == marks + ".md" })
            #expect(!hidden.text.contains("_end"), "\(hidden.text)")
        }
        // A private name among many marks is still read, from its own start.
        let named = PrivateLinks.redacting(String(repeating: ",", count: 5_000) + " see Memory/Meeting notes, Dr X.md today", in: "Memory/Links.md", candidates: { $0.map { [$0.target] } },
                                           isPrivate: { $0 == "Memory/Meeting notes, Dr X.md" })
        #expect(named.text.hasSuffix(" see (a private note) today"), "\(named.text.suffix(60))")
    }

    /// Attack (low): a private note's name wrapped in emphasis, highlight, braces or curly quotes,
    /// or after `#`, `@`, `=`, … went out as written: a reading started only after a space or
    /// `, ; ! ? ) :`.
    @Test(arguments: ["**X**", "_X_", "==X==", "~~X~~", "{X}", "“X”", "‘X’", "«X»", "#X", "@X", "=X", "+X", "$X", "&X", "~X", "^X", "*X*"])
    func aWrappedPrivateNameIsHidden(_ wrapped: String) {
        let name = "Cancer diagnosis PRIVTITLE.md"
        let text = "see " + wrapped.replacingOccurrences(of: "X", with: name) + " today"
        let redacted = PrivateLinks.redacting(text, in: "Memory/Links.md", candidates: { found in
            found.map { $0.target == "Cancer diagnosis PRIVTITLE.md" || $0.target == "Cancer diagnosis PRIVTITLE" ? ["Memory/Cancer diagnosis PRIVTITLE.md"] : [] }
        }, isPrivate: { $0 == "Memory/Cancer diagnosis PRIVTITLE.md" })
        #expect(!redacted.text.contains("PRIVTITLE"), "\(redacted.text)")
    }

    /// Review: an HTML tag is read to the next `<`, so a tag with `<` in an attribute was no tag,
    /// and its `href` to a private note went out as written. Attribute values are read wherever
    /// they are written.
    @Test func anAttributeAfterALessThanSignIsStillRead() {
        for text in ["<a href=\"Memory/Diary\" title=\"<3\">d</a>", "<a title=\"<3\" href=\"Memory/Diary\">d</a>", "<img alt=\"a<b\" src='Memory/Diary.md'>", "<a title=\"<\" HREF = Memory/Diary>x</a>"] {
            let hidden = PrivateLinks.redacting(text, in: "Memory/Links.md", candidates: { found in found.map { $0.target.hasPrefix("Memory/Diary") ? ["Memory/Diary.md"] : [] } }, isPrivate: { $0 == "Memory/Diary.md" })
            #expect(!hidden.text.contains("Diary"), "\(text) → \(hidden.text)")
        }
        // Read once each: a note of `href="` repeated is read in one pass.
        let many = String(repeating: "<a href=\"", count: 20_000)
        #expect(PrivateLinks.attributeValues(in: many as NSString, units: Array(many.utf16)).count <= 20_000)
    }

    /// Final read of the change: past 4,096 readings, destinations or attribute values, the rest of
    /// a text was not judged and went out as written — a run that wrote thousands of links above a
    /// person's link to a private note would have had that link sent. Past `mostReadings` now,
    /// the rest is left out, with a line saying so.
    @Test(arguments: ["[a](x.md) ", "<a href=x> ", "see a b.md "])
    func aTextWithMoreLinksThanAreJudgedIsCutNotSent(_ link: String) {
        let text = String(repeating: link, count: PrivateLinks.mostReadings + 10) + "\nsee Memory/Diary notes.md and [d](Memory/Diary%20notes.md) and <img src=\"Memory/Diary notes.md\">\n"
        let out = PrivateLinks.redacting(text, in: "Memory/Links.md", candidates: { $0.map { [$0.target] } }, isPrivate: { $0.hasPrefix("Memory/Diary") }).text
        #expect(!out.contains("Diary") && out.hasSuffix(PrivateLinks.notJudged), "\(out.suffix(200))")
    }

    /// Review: a piece is judged on at most 16,000 bytes (a whole section of megabytes was judged
    /// link by link for 2,400 bytes of it), and a wikilink the last cut leaves open is left out.
    @Test func aLongPieceIsCutRoughlyBeforeItIsJudgedAndNoLinkIsLeftOpen() {
        let long = ContextPiece(kind: .memory, path: "Memory/Long.md", line: 1, heading: nil, text: String(repeating: "word ", count: 400_000), isPrivate: false)
        #expect(ContextPacketBuilder.roughlyShortened(long).piece.text.utf8.count <= 16_000)
        let open = ContextPiece(kind: .memory, path: "Memory/Long.md", line: 1, heading: nil, text: String(repeating: "word ", count: 470) + "[[Cancer diagnosis|" + String(repeating: "alias ", count: 5_000) + "]]", isPrivate: false)
        let cut = ContextPacketBuilder.shortened(open).text
        #expect(!cut.contains("[[") && !cut.contains("Cancer") && cut.hasSuffix("…"), "\(cut.suffix(80))")
    }

    /// Attack (low-medium): a retrieved piece was cut to 2,400 bytes before its links to private
    /// notes were hidden; a link straddling the cut was no longer one, and `[[Cancer diagnosis
    /// PRIVTITLE` reached the cloud agent's prompt. The piece is cut after.
    @Test func aRetrievedPieceIsCutAfterItsPrivateLinksAreHidden() throws {
        let v = RouteTestVault()
        v.writeStandardRules()
        v.write("Memory/Cancer diagnosis PRIVTITLE.md", "---\ntags: [private]\n---\n# Diagnosis\n\nPRIVATEBODY\n")
        for (name, prose) in [("Wiki", "[[Cancer diagnosis PRIVTITLE]]"), ("Markdown", "[my doctor](Memory/Cancer%20diagnosis%20PRIVTITLE.md)"), ("Bare", "see Memory/Cancer diagnosis PRIVTITLE.md")] {
            // One paragraph: the link starts about 30 bytes before the 2,400th.
            let lead = "The wombat ledger reconciliation \(name) runs every Friday. "
            let filler = String(repeating: "wombat ledger words ", count: (2_370 - 12 - lead.utf8.count) / 20)
            v.write("Memory/\(name) ledger.md", "# \(name) ledger\n\n" + lead + filler + prose + " and more words after it.\n")
        }
        v.write("Tasks/Ask.md", "---\ntype: task\nagent: claude\n---\nExplain the wombat ledger reconciliation Wiki Markdown Bare.\n")
        let plan = try PacketGuardrailsTests.plan(v, "Tasks/Ask.md")
        #expect(plan.action == .run, "\(plan.reason)")
        #expect(plan.prompt.contains("wombat ledger words"), "no memory piece was retrieved\n\(plan.prompt)")
        #expect(!plan.prompt.contains("PRIVTITLE") && !plan.prompt.contains("Cancer"), "\(plan.prompt)")
    }

    /// Attack (low-medium): `tags: ["pri\` + a line `vate"]` is `private` to YAML (an escaped line
    /// break joins the lines with nothing between); it was read `pri vate`, and the note went to
    /// cloud search and packets. So is a YAML merge key (`<<: {privacy: private}`).
    @Test(arguments: ["tags: [\"pri\\\n  vate\"]", "tags: [\"health\", \"pri\\\n   vate\"]", "<<: {privacy: private}", "<<:\n  tags: [private]", "<<: [{tags: [x]}, {privacy: secret}]"])
    func yamlSpellingsOfPrivateCount(_ frontmatter: String) throws {
        let note = try Note.parse("---\n\(frontmatter)\n---\nPRIVX4\n")
        #expect(Privacy.reason(note: note, path: "Memory/X4.md", guardrails: Guardrails()) != nil, "\(note.properties)")
    }

    /// Attack (info): with `private_tags: [Santé]`, `tags: [Santé]` written decomposed was private
    /// but an inline `#Santé` written so (`Sante` + U+0301) was not: the tag was read up to the
    /// combining mark. A mark is part of a tag, as in frontmatter.
    @Test func aDecomposedInlineTagIsTheTag() throws {
        var guardrails = Guardrails()
        guardrails.privateTags.append(TaskFacts.normalizeTag("Santé"))
        let decomposed = try Note.parse("# Notes\n\nPRIVNFDINLINE #Sante\u{0301} today\n")
        #expect(TaskFacts.inlineTags(in: decomposed.body).contains("sante\u{0301}"))
        #expect(Privacy.reason(note: decomposed, path: "Memory/N.md", guardrails: guardrails) != nil)
        let composed = try Note.parse("# Notes\n\n#Santé today\n")
        #expect(Privacy.reason(note: composed, path: "Memory/N.md", guardrails: guardrails) != nil)
        // And a mark after a private tag does not hide it (a review: read with its marks,
        // `#private` + U+FE0F, an emoji's variation selector, stopped being private).
        for text in ["#private\u{FE0F} note", "#private\u{0301} note", "#Sante\u{0301}\u{FE0F} x"] {
            #expect(Privacy.reason(note: try Note.parse(text), path: "Memory/N.md", guardrails: guardrails) != nil, "\(text.unicodeScalars.map { String($0.value, radix: 16) })")
        }
    }

    /// Attack (low): a run set `type: note` on its own task; then its `retries`, `timeout`,
    /// `budget_usd` and `effects` (protected on work notes only) were its to set, and a retry the
    /// watcher had queued was lost. A run may not change what kind a work note is.
    @Test func aRunMayNotTurnItsTaskIntoANote() throws {
        let task = Array("---\ntype: task\nstatus: running\nretries: 1\n---\nDo it.\n".utf8)
        for edited in ["---\ntype: note\nstatus: running\nretries: 1\n---\nDo it.\n", "---\ntype: handoff\nstatus: running\nretries: 1\n---\nDo it.\n"] {
            #expect(throws: RunWriteGuard.Refusal.self) {
                try RunWriteGuard.checkText(Array(edited.utf8), replacing: task, path: "Tasks/Do it.md", runID: "r1")
            }
        }
        // Outside the work folders, a task note typed so is work too; the body is the run's to edit.
        try RunWriteGuard.checkText(Array("---\ntype: task\nstatus: running\nretries: 1\n---\nDo it well.\n".utf8), replacing: task, path: "Tasks/Do it.md", runID: "r1")
        #expect(throws: RunWriteGuard.Refusal.self) {
            try RunWriteGuard.checkText(Array("---\ntype: note\n---\nx\n".utf8), replacing: Array("---\ntype: task\n---\nx\n".utf8), path: "Memory/Work.md", runID: "r1")
        }
    }
}
