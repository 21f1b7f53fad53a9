import Foundation
import Testing
@testable import AgentOS

/// `TelemetryTotals` works on bytes; its answers must be what the line-by-line Foundation version
/// it replaced gave (kept here as the reference), on the notes the OS writes and on notes a person
/// edited into odd shapes.
@Suite struct TelemetryTotalsTests {
    /// The implementation before the byte version, word for word.
    enum Reference {
        static func refresh(_ text: String) -> String {
            var lines = text.components(separatedBy: "\n")
            let line = totalsLine(rows: lines)
            if let at = lines.firstIndex(where: { $0.hasSuffix(TelemetryTotals.marker) }) {
                lines[at] = line
            } else if let table = lines.firstIndex(where: { $0.hasPrefix("| time |") }) {
                lines.insert(contentsOf: [line, ""], at: table)
            } else {
                return text
            }
            return lines.joined(separator: "\n")
        }

        static func totalsLine(rows lines: [String]) -> String {
            var runs = 0, tokensIn = 0, tokensOut = 0
            var cost = 0.0
            var bySource: [String: Double] = [:]
            var outcomes: [String: Int] = [:]
            for line in lines where line.hasPrefix("| ") && line.contains("<!-- run:") {
                let cells = line.dropFirst(2).components(separatedBy: " | ")
                guard cells.count >= 10 else { continue }
                runs += 1
                let money = cells[5].split(separator: " ")
                if let amount = money.first.flatMap({ Double($0) }) {
                    cost += amount
                    bySource[money.count > 1 ? String(money[1]) : "unknown", default: 0] += amount
                }
                tokensIn += Int(cells[6]) ?? 0
                tokensOut += Int(cells[7]) ?? 0
                let outcome = cells[9].split(separator: ",").first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
                if !outcome.isEmpty { outcomes[outcome, default: 0] += 1 }
            }
            let sources = (CostSource.allCases.map(\.rawValue) + ["unknown"]).compactMap { name in
                bySource[name].map { "\(name) $" + String(format: "%.4f", $0) }
            }
            var text = "**Totals:** \(runs) \(runs == 1 ? "run" : "runs") · $" + String(format: "%.4f", cost)
            if !sources.isEmpty { text += " (" + sources.joined(separator: " · ") + ")" }
            text += " · tokens \(tokensIn) in / \(tokensOut) out"
            if !outcomes.isEmpty { text += " · " + outcomes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ") }
            return text + " " + TelemetryTotals.marker
        }
    }

    static func record(_ i: Int, _ generator: inout SystemRandomNumberGenerator) -> TelemetryRecord {
        let agents = ["claude", "codex", "ollama", "llm", "échö", "代理", "a | b"]
        let outcomes = ["done", "failed", "review", "blocked", "done, context truncated: 70000 tokens left out"]
        var r = TelemetryRecord(time: Date(timeIntervalSince1970: 1_796_300_000 + Double(i) * 37), runID: "run-\(i)-\(UInt32.random(in: 0...UInt32.max, using: &generator))",
                                taskPath: "Tasks/Task \(i) ünïcödé.md", agent: agents[i % agents.count], model: i % 3 == 0 ? nil : "model-\(i % 4)", lane: ["premium", "local", "tool"][i % 3],
                                rule: nil, reason: nil, costUSD: i % 5 == 0 ? nil : Double(Int.random(in: 0...100_000, using: &generator)) / 1e6,
                                tokensIn: i % 7 == 0 ? nil : Int.random(in: 0...90_000, using: &generator), tokensOut: Int.random(in: 0...9_000, using: &generator),
                                durationSeconds: Double(i % 13) / 3, outcome: outcomes[i % outcomes.count], resultPath: i % 2 == 0 ? "Results/R\(i).md" : nil, error: nil)
        r.costSource = i % 5 == 0 ? nil : CostSource.allCases[i % CostSource.allCases.count]
        r.isPrivate = false
        return r
    }

    /// A note as the OS writes it, with `rows` rows.
    static func note(rows: Int, _ generator: inout SystemRandomNumberGenerator) -> String {
        var text = TelemetryWriter.noteHeader(Date(timeIntervalSince1970: 1_796_300_000))
        for i in 0..<rows {
            let r = record(i, &generator)
            text += TelemetryWriter.row(r).dropLast() + " " + TelemetryWriter.marker(r.runID) + "\n"
        }
        return text
    }

    @Test func theTotalsAreThoseOfTheFoundationVersionOnNotesTheOSWrites() {
        var generator = SystemRandomNumberGenerator()
        for rows in [0, 1, 2, 17, 400] {
            let text = Self.note(rows: rows, &generator)
            let once = TelemetryTotals.refresh(text)
            #expect(once == Reference.refresh(text), "\(rows) rows")
            // Again, now that the note has its totals line (it is replaced, not added).
            #expect(TelemetryTotals.refresh(once) == Reference.refresh(once))
            #expect(once.components(separatedBy: "\n").filter { $0.hasSuffix(TelemetryTotals.marker) }.count == (text.contains("| time |") ? 1 : 0))
        }
    }

    @Test func notesEditedIntoOddShapesGetTheSameAnswer() {
        var generator = SystemRandomNumberGenerator()
        let base = Self.note(rows: 30, &generator)
        var cases: [String] = [
            "", "\n", "no table at all\n", "| time |", "| time |\n| 09:00 | x <!-- run:1 -->",
            base + "| 09:00 | [[T]] | a | | local | 0.5 reported | 1 | 2 | 1.00 | done | | <!-- run:extra -->\n",
            base + "| 09:00 | [[T]] | too | few | cells <!-- run:short -->\n",
            base + "|  | | | | | | | | | | <!-- run:empties -->\n",
            base + "| a | b | c | d | e | 1e3 reported | 12abc | 7 | x | done,, | <!-- run:junk -->\n",
            "intro\n" + TelemetryTotals.marker + "\n" + base,
            base.replacingOccurrences(of: " | ", with: " || "),
            base + "| 09:00 | é | ü | 中 | 🙂 | 0.25 🙂 | 3 | 4 | 5 | ✅ done | x <!-- run:emoji -->\n",
        ]
        // Rows cut short, lines dropped, and runs of random bytes from the note.
        let lines = base.components(separatedBy: "\n")
        for _ in 0..<40 {
            var kept = lines.filter { _ in Bool.random(using: &generator) || Bool.random(using: &generator) }
            if let i = kept.indices.randomElement(using: &generator) {
                kept[i] = String(kept[i].prefix(Int.random(in: 0...max(0, kept[i].count), using: &generator)))
            }
            cases.append(kept.joined(separator: "\n"))
        }
        for (i, text) in cases.enumerated() {
            let mine = TelemetryTotals.refresh(text), theirs = Reference.refresh(text)
            let a = mine.components(separatedBy: "\n"), b = theirs.components(separatedBy: "\n")
            let diff = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }.map { "line \($0.offset): \($0.element.0.debugDescription) vs \($0.element.1.debugDescription)" } ?? "lines \(a.count) vs \(b.count)"
            #expect(mine == theirs, "case \(i): \(diff)")
        }
    }

    /// The one difference: Foundation's line split on a String keeps "\r\n" whole (one Character),
    /// so a note saved with Windows line ends was one "line" and never got its totals. Lines are
    /// now cut at each "\n", so it gets them like any other — in its own line endings, and a totals
    /// line ending in CR is found again (round 46: a CRLF note got a second totals line beside the
    /// stale one at every run).
    @Test func aNoteWithWindowsLineEndsGetsItsTotals() {
        var generator = SystemRandomNumberGenerator()
        let text = Self.note(rows: 30, &generator).replacingOccurrences(of: "\n", with: "\r\n")
        #expect(Reference.refresh(text) == text, "the old version left it as it was")
        let refreshed = TelemetryTotals.refresh(text)
        let lines = refreshed.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
        #expect(lines.allSatisfy { $0.hasSuffix("\r") }, "every line ends in CRLF")
        let totals = lines.filter { $0.hasSuffix(TelemetryTotals.marker + "\r") }
        #expect(totals.count == 1 && totals[0].hasPrefix("**Totals:** 30 runs"), "\(totals)")
        #expect(TelemetryTotals.refresh(refreshed) == refreshed, "refreshing again changes nothing")
        // A row more: the one totals line is brought up to date, not written again.
        let more = Self.note(rows: 31, &generator).replacingOccurrences(of: "\n", with: "\r\n")
        let row = more.components(separatedBy: "\r\n").last { $0.hasPrefix("| ") && $0.contains("<!-- run:") }!
        let grown = TelemetryTotals.refresh(refreshed + row + "\r\n")
        let after = grown.components(separatedBy: "\r\n").filter { $0.hasSuffix(TelemetryTotals.marker) }
        #expect(after.count == 1 && after[0].hasPrefix("**Totals:** 31 runs"), "\(after)")
    }

    @Test func bytesThatAreNotUTF8PassThroughUntouched() {
        var generator = SystemRandomNumberGenerator()
        var bytes = Array(Self.note(rows: 3, &generator).utf8)
        bytes += [0xFF, 0xFE, 0x0A]
        let refreshed = TelemetryTotals.refresh(bytes: bytes)
        #expect(refreshed.suffix(3) == [0xFF, 0xFE, 0x0A], "the invalid bytes were kept, not replaced")
        #expect(String(decoding: refreshed, as: UTF8.self).contains("**Totals:** 3 runs"))
    }
}

/// `TelemetryWriter.link`: the link the OS writes to a note in daily lines, results and telemetry.
@Suite struct OSLinkTests {
    /// A name a wikilink cannot hold (an outside test made these): a line break split the daily line
    /// (a crafted name could forge one), `|` linked another note, `[[x]]` nested. Each is now one
    /// link on one line, naming exactly that note, as the resolver and the privacy checks read it.
    @Test func everyFileNameBecomesOneLinkToThatNote() throws {
        for path in ["Tasks/plain.md", "Tasks/pipe|name.md", "Tasks/new\nline.md", "Tasks/[[link]].md", "Tasks/hash#tag.md", "Tasks/up^block.md",
                     "Tasks/a\r\nb\u{2028}c.md", "Tasks/100% (draft).md", "Tasks/back\\slash].md", "Tasks/sp ace/ü.md"] {
            let link = TelemetryWriter.link(path)
            #expect(!link.unicodeScalars.contains { $0.properties.generalCategory == .control || $0.value == 0x2028 }, "\(link)")
            let found = WikiLink.links(in: "- 16:06 " + link + " → echo (local): done")
            #expect(found.count == 1, "\(link): \(found.map(\.target))")
            let target = try #require(WikiLink.parse(link)?.target, "\(link)")
            let resolved = LinkResolver.literalPath(target, from: "Daily/2026-12-04.md")
            #expect(resolved == path || resolved == String(path.dropLast(3)), "\(path) → \(link) → \(resolved ?? "nil")")
        }
        #expect(TelemetryWriter.link("Tasks/plain.md") == "[[Tasks/plain]]")
    }
}
