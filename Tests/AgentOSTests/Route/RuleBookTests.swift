import Foundation
import Testing
@testable import AgentOS

@Suite struct RuleBookTests {
    @Test func loadsRulesAgentsAndGuardrailsFromNestedFolders() {
        let v = RouteTestVault()
        let book = v.book
        #expect(book.problems.isEmpty)
        #expect(book.builtInParts.isEmpty)
        #expect(book.rules.map(\.name) == ["Deploys", "Routine", "Coding", "Browser"])
        #expect(book.agents.map(\.name).sorted() == ["browser", "claude", "ollama"])
        let claude = book.agent(named: "Claude")
        #expect(claude?.lane == .premium)
        #expect(claude?.maxCostUSD == 0.5)
        #expect(claude?.priceOutPerMillionTokens == 15)
        #expect(book.guardrails.budgetDayUSD == 5)
        #expect(book.guardrails.laneDayUSD[.premium] == 4)
        // Private/ and #private always stay; the note only adds.
        #expect(book.guardrails.privateFolders == ["Private", "Journal"])
        #expect(book.guardrails.privateTags == ["private", "personal"])
        #expect(book.defaultAgent(for: .local)?.name == "ollama")
    }

    @Test func malformedNotesAreSkippedAndReportedNeverFatal() {
        let v = RouteTestVault()
        v.write("Rules/Routing/Broken frontmatter.md", "---\ntype: rule\nwhen_keywords: [summarize\nlane: premium\n---\n")
        v.write("Rules/Routing/Bad priority.md", "---\ntype: rule\npriority: high\nwhen_keywords: [summarize]\nlane: premium\n---\n")
        v.write("Rules/Routing/Typo.md", "---\ntype: rule\npriority: 1\nwhen_keyword: [summarize]\nlane: premium\n---\n")
        v.write("Rules/Routing/Bad lane.md", "---\ntype: rule\npriority: 1\nwhen_keywords: [summarize]\nlane: fast\n---\n")
        v.write("Rules/Routing/Ghost agent.md", "---\ntype: rule\npriority: 1\nwhen_keywords: [summarize]\nagent: gpt-9\n---\n")
        v.write("Rules/Routing/Decides nothing.md", "---\ntype: rule\npriority: 1\nwhen_keywords: [summarize]\n---\n")
        v.write("Rules/Agents/nolane.md", "---\ntype: agent\nname: nolane\n---\n")
        v.write("Rules/Agents/badprice.md", "---\ntype: agent\nname: badprice\nlane: premium\nmax_cost_usd: lots\n---\n")
        v.write("Rules/README.md", "# Rules\nNotes here configure routing.\n")
        let book = v.book
        let paths = Set(book.problems.map(\.path))
        #expect(paths == [
            "Rules/Routing/Broken frontmatter.md", "Rules/Routing/Bad priority.md", "Rules/Routing/Typo.md",
            "Rules/Routing/Bad lane.md", "Rules/Routing/Ghost agent.md", "Rules/Routing/Decides nothing.md",
            "Rules/Agents/nolane.md", "Rules/Agents/badprice.md",
        ])
        #expect(book.problems.first { $0.path.hasSuffix("Typo.md") }!.message.contains("when_keyword"))
        #expect(book.problems.first { $0.path.hasSuffix("Bad priority.md") }!.message.contains("priority must be a number"))
        #expect(book.problems.allSatisfy { !$0.message.contains("\n") })
        // Every broken rule would have sent "summarize" to premium at priority 1; none may.
        let decision = v.route(text: "summarize the notes")
        #expect(decision.lane == .local)
        #expect(decision.rule == "Rules/Routing/Routine.md")
    }

    @Test func badGuardrailKeysKeepBuiltInValuesAndAreReported() {
        let v = RouteTestVault()
        v.write("Rules/Guardrails.md", "---\ntype: guardrails\nbudget_day_usd: plenty\nsecret_patterns: [\"(unclosed\", \"ACME-[0-9]{6}\"]\nsecret_action: shred\n---\n")
        let book = v.book
        #expect(book.guardrails.budgetDayUSD == Guardrails().budgetDayUSD)
        #expect(book.guardrails.secretPatterns == ["ACME-[0-9]{6}"])
        #expect(book.guardrails.secretAction == .block)
        #expect(book.problems.count == 3)
        // max_handoffs: a whole number of 0 or more, else the built-in 20 and a problem named.
        for (value, expected) in [("5", 5), ("0", 0), ("lots", 20), ("-1", 20), ("2.5", 20)] {
            v.write("Rules/Guardrails.md", "---\ntype: guardrails\nmax_handoffs: \(value)\n---\n")
            let book = v.book
            #expect(book.guardrails.maxHandoffs == expected, "max_handoffs: \(value)")
            #expect(book.problems.contains { $0.message.contains("max_handoffs") } == (expected == 20), "max_handoffs: \(value)")
        }
    }

    @Test func missingRulesFolderUsesBuiltInDefaultsThatStayLocal() {
        let v = RouteTestVault(rules: false)
        let book = v.book
        #expect(book.hasNoRulesFolder)
        #expect(book.guardrails.defaultLane == .local)
        let summarize = v.route(text: "summarize today's handoff")
        #expect(summarize.lane == .local)
        #expect(summarize.action == .run)
        #expect(summarize.reason.contains("routine work stays local"))
        // Unmatched work does not drift into the expensive lane.
        let other = v.route(text: "think hard about the architecture of the new billing system")
        #expect(other.lane == .local)
        #expect(other.rule == "default")
        #expect(other.reservationUSD == 0)
    }

    @Test func firstMatchByPriorityWinsWhateverTheFileOrder() {
        let v = RouteTestVault()
        // "fix the logs" matches Routine (10) and Coding (20): Routine is checked first.
        #expect(v.route(text: "fix the logs").rule == "Rules/Routing/Routine.md")
        v.write("Rules/Routing/Coding.md", "---\ntype: rule\npriority: 1\nwhen_keywords: [fix]\nagent: claude\n---\n")
        let decision = v.route(text: "fix the logs")
        #expect(decision.rule == "Rules/Routing/Coding.md")
        #expect(decision.lane == .premium)
        #expect(decision.reason.contains("Coding"))
        #expect(decision.reason.contains("keyword \"fix\""))
    }

    @Test func keywordsMatchWholeWordsCaseInsensitivelyWithOptionalWildcard() {
        #expect(Router.containsWord("format", in: "please format this"))
        #expect(Router.containsWord("format", in: "format."))
        #expect(!Router.containsWord("format", in: "reformatting the table"))
        #expect(!Router.containsWord("log", in: "catalog entries"))
        #expect(Router.containsWord("pull request", in: "review this pull request today"))
        #expect(Router.containsWord("summar*", in: "summarizing"))
        #expect(!Router.containsWord("summar*", in: "the summa"))
        let v = RouteTestVault()
        #expect(v.route(text: "SUMMARIZE the meeting").lane == .local)
        #expect(v.route(text: "Summaries of the bug").rule == "Rules/Routing/Coding.md")
    }

    @Test func conditionsOnTagsFolderTypeSizeAndPrivacy() {
        let v = RouteTestVault()
        v.write("Rules/Routing/Research.md", "---\ntype: rule\npriority: 1\nwhen_tags: [research]\nwhen_folder: [Tasks/Deep]\nagent: claude\n---\n")
        v.write("Rules/Routing/Short.md", "---\ntype: rule\npriority: 2\nwhen_type: [task]\nwhen_max_chars: 20\nlane: local\n---\n")
        v.write("Rules/Routing/Big.md", "---\ntype: rule\npriority: 3\nwhen_min_chars: 200\nwhen_privacy: public\nlane: tool\n---\n")
        // Both the tag (nested tags count) and the folder must hold.
        #expect(v.route("Tasks/Deep/a.md", "---\ntags: [research/ml]\n---\nLook into the literature on sparse attention.\n").rule == "Rules/Routing/Research.md")
        #expect(v.route("Tasks/b.md", "---\ntags: [research]\n---\nLook into the literature on sparse attention.\n").rule != "Rules/Routing/Research.md")
        #expect(v.route("Tasks/c.md", "Ping the team.\n").rule == "Rules/Routing/Short.md")
        let long = String(repeating: "word ", count: 60)
        #expect(v.route("Tasks/d.md", long).rule == "Rules/Routing/Big.md")
        #expect(v.route("Tasks/e.md", "---\nprivacy: private\n---\n" + long).rule == "default")
    }

    @Test func disabledRuleIsSkipped() {
        let v = RouteTestVault()
        v.write("Rules/Routing/Off.md", "---\ntype: rule\npriority: 1\nenabled: false\nwhen_keywords: [summarize]\nagent: claude\n---\n")
        #expect(v.route(text: "summarize it").lane == .local)
    }
}

/// One set of default caps: what a vault without `Rules/Guardrails.md` runs with is the shipped note,
/// and a key a note leaves out takes the shipped value (issue 14: $10/$100/$2 built in against the
/// shipped $5/$50/$1 before).
@Suite struct DefaultGuardrailsTests {
    @Test func theBuiltInGuardrailsAreTheShippedNote() throws {
        let file = try #require(VaultTemplate.files.first { $0.path == "Rules/Guardrails.md" })
        let note = try Note.parse(file.contents)
        let (parsed, problems) = RuleBook.parseGuardrails(note, path: file.path)
        #expect(problems.isEmpty)
        var shipped = parsed
        shipped.path = nil
        #expect(Guardrails.shipped == shipped)
        #expect(RuleBook.defaults.guardrails == shipped)
        #expect(RuleBook.parse(notes: []).guardrails == shipped)
        // The caps a note leaves out are the shipped ones, not older built-in figures.
        let bare = Guardrails()
        #expect(bare.budgetTaskUSD == note["budget_task_usd"]?.number)
        #expect(bare.budgetDayUSD == note["budget_day_usd"]?.number)
        #expect(bare.budgetMonthUSD == note["budget_month_usd"]?.number)
        #expect(bare.laneDayUSD[.premium] == note["budget_premium_day_usd"]?.number)
        #expect(bare.laneMonthUSD[.premium] == note["budget_premium_month_usd"]?.number)
        #expect(Set(shipped.privateTags) == Set(note.texts("private_tags")))
        #expect(shipped.defaultAgent == note.text("default_agent"))
    }
}

/// The scanned inline tags and telemetry markers agree with the slower implementations they replace.
@Suite struct FastScannerTests {
    @Test func inlineTagsMatchTheRegularExpressionOnRandomText() {
        let alphabet: [String] = ["#", "#", "#", "&", "/", "-", "_", " ", "\n", "1", "9", "a", "Z", "é", "ß", "日", "本", "٣", "Ⅻ", "😀", ".", ",", "(", "[", "]", "x", "tag", "private", "#private/health", "\u{0301}", "e\u{0301}", "\u{0903}"]
        var random = SeededRandom(seed: 42)
        for _ in 0..<20_000 {
            let length = Int(random.next() % 24)
            let text = (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }.joined()
            #expect(TaskFacts.inlineTags(in: text) == TaskFacts.inlineTagsByPattern(in: text), "\(text.debugDescription)")
        }
        #expect(TaskFacts.inlineTags(in: "see #Private/Health and a#b, #123, #1a, &#x; ##x") == ["private/health", "1a"])
    }

    @Test func markersAreFoundByTheByteScan() {
        let text = "| a | <!-- run:abc-1 --> |\n- line <!-- run:日本-2 -->\n<!-- run:cut"
        #expect(TelemetryWriter.markedRunIDs(in: text) == ["abc-1", "日本-2"])
        #expect(TelemetryWriter.markedRunIDs(in: "") == [])
    }
}

/// A guardrails note written for the budget alone keeps the shipped private tags: before, leaving
/// `private_tags` out made `#secret` and `#personal` public, and a note tagged `secret` went to a
/// premium agent with `privacy ok` (the doc audit of 2026-12-05).
@Suite struct LeftOutPrivateTagsTests {
    @Test func aGuardrailsNoteWithoutPrivateTagsKeepsTheShippedOnes() throws {
        let v = RouteTestVault()
        v.write("Rules/Guardrails.md", "---\ntype: guardrails\nbudget_day_usd: 3\n---\nOnly the budget.\n")
        #expect(Set(v.book.guardrails.privateTags) == Set(Guardrails.shippedPrivateTags))
        for tag in ["secret", "personal", "private"] {
            let facts = v.facts("Tasks/\(tag) plan.md", "---\ntype: task\nagent: claude\ntags: [\(tag)]\n---\nPlan the move.\n")
            #expect(Privacy.reason(for: facts, guardrails: v.book.guardrails) != nil, "a note tagged \(tag) is public")
            #expect(Router(book: v.book).decide(facts, prompt: facts.body, spend: nil).action != .run)
        }
        // The shipped list is the template's, word for word.
        let file = try #require(VaultTemplate.files.first { $0.path == "Rules/Guardrails.md" })
        #expect(try Note.parse(file.contents).texts("private_tags") == Guardrails.shippedPrivateTags)
    }

    @Test func aNoteThatListsItsTagsAddsThemToPrivateOnly() {
        let v = RouteTestVault()
        v.write("Rules/Guardrails.md", "---\ntype: guardrails\nprivate_tags: [health]\n---\n")
        #expect(Set(v.book.guardrails.privateTags) == ["private", "health"])
        let facts = v.facts("Tasks/plan.md", "---\ntype: task\nagent: claude\ntags: [secret]\n---\nPlan the move.\n")
        #expect(Privacy.reason(for: facts, guardrails: v.book.guardrails) == nil)
        #expect(Router(book: v.book).decide(facts, prompt: facts.body, spend: nil).action == .run)
    }
}
