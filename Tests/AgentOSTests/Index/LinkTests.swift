import Foundation
import Testing
@testable import AgentOS

@Suite struct LinkTests {
    @Test func linksResolveByPathThenNameThenAlias() throws {
        let temp = try TemporaryVault()
        try temp.write("Projects/Alpha.md", "---\naliases: [The First]\n---\nAlpha project.\n")
        try temp.write("Archive/Alpha.md", "An older alpha.\n")
        try temp.write("Memory/Decisions.md", "Decisions.\n")
        try temp.write("Home.md", """
        By path [[Projects/Alpha]] and with extension [[Archive/Alpha.md]].
        By unique name [[Decisions#Why|our decisions]] and embedded ![[Decisions]].
        By alias [[The First]]. Unresolved: [[Nowhere]].
        Ambiguous from the root: [[Alpha]].
        `[[Inline code link]]`
        ```
        [[Fenced link]]
        ```
        Table cell [[Decisions\\|escaped]].
        """)
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()

        let links = try index.links(from: "Home.md")
        let byTarget = Dictionary(links.map { ($0.link.target, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byTarget["Projects/Alpha"]?.resolvedPath == "Projects/Alpha.md")
        #expect(byTarget["Archive/Alpha.md"]?.resolvedPath == "Archive/Alpha.md")
        #expect(byTarget["Decisions"]?.resolvedPath == "Memory/Decisions.md")
        #expect(byTarget["The First"]?.resolvedPath == "Projects/Alpha.md")
        #expect(byTarget["Nowhere"] != nil)
        #expect(byTarget["Nowhere"]?.resolvedPath == nil)
        // Two notes are called Alpha and neither is nearer to Home.md: unresolved.
        #expect(byTarget["Alpha"]?.resolvedPath == nil)
        #expect(byTarget["Inline code link"] == nil)
        #expect(byTarget["Fenced link"] == nil)

        let decisionLinks = links.filter { $0.link.target == "Decisions" }
        #expect(decisionLinks.count == 3)
        #expect(decisionLinks.contains { $0.link.anchor == "Why" && $0.link.display == "our decisions" && !$0.link.isEmbed })
        #expect(decisionLinks.contains { $0.link.isEmbed && $0.link.line == 2 })
        #expect(decisionLinks.contains { $0.link.display == "escaped" })

        let backlinks = try index.backlinks(to: "Memory/Decisions.md")
        #expect(backlinks.count == 3)
        #expect(backlinks.allSatisfy { $0.sourcePath == "Home.md" })
        #expect(try index.backlinks(to: "Decisions").count == 3)
        #expect(Set(try index.backlinks(to: "Projects/Alpha").map(\.target)) == ["Projects/Alpha", "The First"])
        #expect(try index.backlinks(to: "Archive/Alpha").map(\.target) == ["Archive/Alpha.md"])
        #expect(throws: IndexError.ambiguous("Alpha", count: 2)) { try index.backlinks(to: "Alpha") }
        #expect(throws: IndexError.noSuchNote("Nowhere")) { try index.backlinks(to: "Nowhere") }
    }

    @Test func sharedNamesResolveToTheNearestNote() throws {
        let temp = try TemporaryVault()
        try temp.write("en/Plugins/Canvas.md", "English canvas.\n")
        try temp.write("de/Plugins/Canvas.md", "Deutsches Canvas.\n")
        try temp.write("en/Guide.md", "See [[Canvas]].\n")
        try temp.write("de/Anleitung.md", "Siehe [[Canvas]].\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        #expect(try index.backlinks(to: "en/Plugins/Canvas").map(\.sourcePath) == ["en/Guide.md"])
        #expect(try index.backlinks(to: "de/Plugins/Canvas.md").map(\.sourcePath) == ["de/Anleitung.md"])
    }

    @Test func resolutionFollowsRenamesAndNewNotes() throws {
        let temp = try TemporaryVault()
        try temp.write("Home.md", "Link to [[Later]].\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        #expect(try index.links(from: "Home.md").first?.resolvedPath == nil)
        // The link stays as written; once the note exists it resolves.
        try temp.write("Notes/Later.md", "Now here.\n")
        _ = try index.update(path: "Notes/Later.md")
        #expect(try index.links(from: "Home.md").first?.resolvedPath == "Notes/Later.md")
        try temp.move("Notes/Later.md", "Notes/Renamed.md")
        try index.rename(from: "Notes/Later.md", to: "Notes/Renamed.md")
        #expect(try index.links(from: "Home.md").first?.resolvedPath == nil)
        #expect(try index.backlinks(to: "Notes/Renamed").isEmpty)
    }
}
