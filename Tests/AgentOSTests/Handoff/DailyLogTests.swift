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
}
