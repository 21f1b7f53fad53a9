import Foundation
import Testing
@testable import AgentOS

/// How a packet reads a day's log: its properties from the first bytes, its last lines from the
/// last 16 KB, and its privacy as a whole by properties and path only (lines are judged one by one).
@Suite struct DailyLogTests {
    static let guardrails = Guardrails()

    @Test func aLongLogIsReadFromItsEndsWithItsPropertiesAndItsLastLinesNumberedAsLinksAre() throws {
        let temp = try TemporaryVault()
        var text = "---\ntags: [work, private]\n---\n# Day\n\n"
        for i in 0..<3_000 { text += "- 09:\(i % 60) ran [[Tasks/T\(i)]] → echo\n" }
        try temp.write("Daily/2026-01-01.md", text)
        let log = try #require(DailyLog.read("Daily/2026-01-01.md", store: NoteStore(vault: temp.vault)))
        #expect(Privacy.reason(ofLog: log.header, at: log.path, guardrails: Self.guardrails) != nil)
        #expect(log.tail.utf8.count <= DailyLog.tailBytes)
        #expect(log.items.last?.text == "- 09:59 ran [[Tasks/T2999]] → echo")
        // The items' numbers are the lines WikiLink numbers in the same text.
        let link = try #require(WikiLink.links(in: log.tail).first { $0.target == "Tasks/T2990" })
        #expect(log.items.first { $0.number == link.line }?.text == "- 09:50 ran [[Tasks/T2990]] → echo")
    }

    @Test func theNameFilterPassesEveryLineThatLinksTheNotesAndFewOthers() throws {
        let keys: Set<String> = [LinkResolver.key("Tasks/Burst/b-7"), LinkResolver.key("b-7")]
        let filter = try #require(ContextPacketBuilder.nameFilter(keys))
        let linking: [Substring] = ["- 09:00 [[Tasks/Burst/b-7]] done", "- 09:00 [[B-7|the seventh]] done", "- 09:00 [x](Tasks/Burst/b%2D7.md)", "- 09:00 [[b-7.md]]"]
        for line in linking {
            #expect(filter(line), "\(line)")
            #expect(ContextPacketBuilder.line(line, links: keys), "\(line)")
        }
        #expect(!filter("- 09:01 [[Tasks/Burst/b-8]] done"))
        // A name that is not ASCII has no byte filter: every line is parsed.
        #expect(ContextPacketBuilder.nameFilter([LinkResolver.key("Tâche")]) == nil)
    }

    @Test func aShortLogIsReadWholeAndALogWithoutPropertiesIsNotPrivate() throws {
        let temp = try TemporaryVault()
        try temp.write("Daily/2026-01-02.md", "# Day\n\n- 10:00 one #private\n- 10:01 two\n")
        let log = try #require(DailyLog.read("Daily/2026-01-02.md", store: NoteStore(vault: temp.vault)))
        #expect(log.items.map(\.text) == ["- 10:00 one #private", "- 10:01 two"])
        // The #private line is judged as a line; the log as a whole is not private.
        #expect(Privacy.reason(ofLog: log.header, at: log.path, guardrails: Self.guardrails) == nil)
        #expect(DailyLog.read("Daily/2026-01-03.md", store: NoteStore(vault: temp.vault)) == nil)
    }

    @Test func aLogsPrivacyIsFoundPastALongFrontmatterAndAnUnclosedOneCountsAsPrivate() throws {
        let temp = try TemporaryVault()
        let store = NoteStore(vault: temp.vault)
        let long = (0..<400).map { "  - attendee number \($0)" }.joined(separator: "\n")
        try temp.write("Daily/Long.md", "---\nattendees:\n\(long)\nprivacy: private\n---\n- 10:00 met\n")
        #expect(Privacy.reason(ofLogAt: "Daily/Long.md", store: store, guardrails: Self.guardrails) == "privacy: private")
        try temp.write("Daily/Open.md", "---\nprivacy: public\n" + String(repeating: "note: x\n", count: 10_000))
        #expect(Privacy.reason(ofLogAt: "Daily/Open.md", store: store, guardrails: Self.guardrails) != nil)
        try temp.write("Daily/Plain.md", "---\r\ntags: [work]\r\n---\r\n- 10:00 met\r\n")
        #expect(Privacy.reason(ofLogAt: "Daily/Plain.md", store: store, guardrails: Self.guardrails) == nil)
        try temp.write("Private/Daily/Mine.md", "- 10:00 met\n")
        #expect(Privacy.reason(ofLogAt: "Private/Daily/Mine.md", store: store, guardrails: Self.guardrails) != nil)
    }

    /// A long log's stamp (what a run checks before its agent starts: did a line its packet took
    /// change?) covers what a packet reads — the properties and headings at the top, the last lines —
    /// without hashing the whole log twice a task: lines appended by runs change nothing, a last line
    /// or a property edited does, and a line in the middle, which no packet reads, does not.
    @Test func aLongLogsStampCoversWhatAPacketReadsFromIt() throws {
        let temp = try TemporaryVault()
        var lines = ["---", "tags: [work]", "---", "# Day", ""]
        for i in 0..<6_000 { lines.append("- 09:\(i % 60) ran [[Tasks/T\(i)]] → echo") }
        func write(_ lines: [String]) throws { try temp.write("Daily/2026-01-01.md", lines.joined(separator: "\n") + "\n") }
        try write(lines)
        let stamps = TaskEngine.stamps(of: ["Daily/2026-01-01.md"], vault: temp.vault)
        #expect(TaskEngine.changedInput(stamps, vault: temp.vault) == nil)
        try write(lines + ["- 10:00 ran [[Tasks/Next]] → echo", "- 10:01 ran [[Tasks/After]] → echo"])
        #expect(TaskEngine.changedInput(stamps, vault: temp.vault) == nil, "appended items")
        var edited = lines
        edited[edited.count - 1] += " #private"
        try write(edited)
        #expect(TaskEngine.changedInput(stamps, vault: temp.vault) == "Daily/2026-01-01.md", "the last line")
        edited = lines
        edited[1] = "tags: [work, private]"
        try write(edited)
        #expect(TaskEngine.changedInput(stamps, vault: temp.vault) == "Daily/2026-01-01.md", "the properties")
        // A line in the middle rewritten to the same length: no packet reads it. (Text added there
        // moves the end, which then counts as changed.)
        edited = lines
        edited[3_000] = edited[3_000].replacingOccurrences(of: "echo", with: "ECHO")
        try write(edited)
        #expect(TaskEngine.changedInput(stamps, vault: temp.vault) == nil, "a line no packet reads")
        #expect(DailyLog.read("Daily/2026-01-01.md", store: NoteStore(vault: temp.vault))?.tail.contains("ECHO") == false)
        edited[3_000] += " #private"
        try write(edited)
        #expect(TaskEngine.changedInput(stamps, vault: temp.vault) == "Daily/2026-01-01.md")
    }
}
