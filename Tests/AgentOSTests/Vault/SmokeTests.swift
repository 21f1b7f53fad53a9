import Testing
@testable import AgentOS

@Suite struct SmokeTests {
    @Test func parsesSimpleNote() throws {
        let note = try Note.parse("---\ntitle: Hello\ntags:\n  - a\n  - b\n---\nBody\n")
        #expect(note.text("title") == "Hello")
        #expect(note.texts("tags") == ["a", "b"])
        #expect(note.body == "Body\n")
    }
}
