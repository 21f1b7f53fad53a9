import Foundation
import Testing
@testable import AgentOS

/// The one link parser: every way a note links, read alike by the index, routing and the packet.
@Suite struct WikiLinkTests {
    @Test func readsEveryWayANoteLinks() {
        let text = """
        [[Note]] [[Folder/Note.md#Part|shown]] ![[Pic.png]] [[Note#^b1]]
        | a | [[Table\\|cell]] |
        [md](Some%20Note.md#Sec) [spaced](<Other Note.md>) ![titled](x.md "T") [web](https://e.com) [mail](mailto:a@b) [same](#h) [[#Own heading]]
        `[[In code]]` [[unclosed
        """
        #expect(WikiLink.links(in: text) == [
            WikiLink(target: "Note", line: 1),
            WikiLink(target: "Folder/Note.md", anchor: "Part", display: "shown", line: 1),
            WikiLink(target: "Pic.png", isEmbed: true, line: 1),
            WikiLink(target: "Note", anchor: "^b1", line: 1),
            WikiLink(target: "Table", display: "cell", line: 2),
            WikiLink(target: "Some Note.md", anchor: "Sec", display: "md", line: 3),
            WikiLink(target: "Other Note.md", display: "spaced", line: 3),
            WikiLink(target: "x.md", display: "titled", isEmbed: true, line: 3),
            // Routing follows a link even in code (fail closed); the index does not (below).
            WikiLink(target: "In code", line: 4),
        ])
        #expect(WikiLink.parse(" [[Note#Part|x]] ") == WikiLink(target: "Note", anchor: "Part", display: "x"))
        #expect(WikiLink.parse("![[Note]]") == WikiLink(target: "Note", isEmbed: true))
        #expect(WikiLink.parse("Notes/A.md#Part") == WikiLink(target: "Notes/A.md", anchor: "Part"))
        #expect(WikiLink.parse("[x](Private/My%20Note.md)") == WikiLink(target: "Private/My Note.md", display: "x"))
        #expect(WikiLink.parse("[[#Heading]]") == nil)
        #expect(WikiLink.parse("[site](https://example.com)") == nil)
        #expect(WikiLink.parse("  ") == nil)
    }

    @Test func theIndexReadsTheSameLinksOutsideCode() throws {
        let temp = try TemporaryVault()
        let body = """
        Start [[A#Part|shown]] and ![[B]] and [c](C%20D.md) and [[E\\|cell]].
        `[[Code span]]` then [[F]]
        ```
        [[Fenced]]
        ```
        """
        try temp.write("Home.md", body)
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        let indexed = try index.links(from: "Home.md").map(\.link)
        let parsed = WikiLink.links(in: body).filter { !["Code span", "Fenced"].contains($0.target) }
        #expect(indexed == parsed)
        #expect(indexed.map(\.target) == ["A", "B", "C D.md", "E", "F"])
    }
}

/// The one resolver: Obsidian's rules, from the vault's files (routing, privacy, the packet) and
/// from the index's tables (backlinks, `links`), with the same answers.
@Suite struct LinkResolverTests {
    static func vault() throws -> RouteTestVault {
        let v = RouteTestVault(rules: false)
        v.write("Note.md", "Root note.\n")
        v.write("Tasks/Note.md", "Sibling note.\n")
        v.write("Projects/Alpha.md", "---\naliases: [Nick, The First]\n---\nAlpha.\n")
        v.write("Archive/Alpha.md", "Old alpha.\n")
        v.write("Memory/Decisions.md", "Decisions.\n")
        v.write("Private/Scan.pdf", "%PDF-1.4\n")
        v.write("en/Plugins/Canvas.md", "English.\n")
        v.write("de/Plugins/Canvas.md", "Deutsch.\n")
        v.write("Shared/One.md", "---\naliases: [Twin]\n---\n1\n")
        v.write("Shared/Two.md", "---\naliases: [twin]\n---\n2\n")
        _ = try MemoryIndex(vault: v.vault).reconcile()
        return v
    }

    @Test func resolvesByObsidiansRules() throws {
        let v = try Self.vault()
        let links = LinkResolver(vault: v.vault)
        // The exact path first (from the vault root), case-insensitively, with or without .md.
        #expect(links.resolve("Note", from: "Tasks/x.md").path == "Note.md")
        #expect(links.resolve("tasks/NOTE", from: nil).path == "Tasks/Note.md")
        #expect(links.resolve("Projects/Alpha.md", from: nil).path == "Projects/Alpha.md")
        // A unique file name, any case; attachments too.
        #expect(links.resolve("DECISIONS", from: "Tasks/x.md").path == "Memory/Decisions.md")
        #expect(links.resolve("scan.PDF", from: "Tasks/x.md").path == "Private/Scan.pdf")
        // A shared name: the nearest to the linking note; a path ending narrows first.
        #expect(links.resolve("Canvas", from: "de/Anleitung.md").path == "de/Plugins/Canvas.md")
        #expect(links.resolve("Plugins/Canvas", from: "en/Guide.md").path == "en/Plugins/Canvas.md")
        // Equally near: unresolved, and privacy judges every note it could mean and the literal path.
        let tie = links.resolve("Alpha", from: "Home.md")
        #expect(tie.path == nil)
        #expect(Set(tie.judged) == ["Projects/Alpha.md", "Archive/Alpha.md", "Alpha.md"])
        // Aliases (from the index), case-insensitively; two notes with one alias: both judged.
        #expect(links.resolve("nick", from: "Home.md").path == "Projects/Alpha.md")
        #expect(links.resolve("The First", from: nil).path == "Projects/Alpha.md")
        let twins = links.resolve("Twin", from: "Home.md")
        #expect(twins.path == nil)
        #expect(Set(twins.judged) == ["Shared/One.md", "Shared/Two.md", "Twin.md"])
        // Relative paths read from the linking note's folder; nothing outside the vault.
        #expect(links.resolve("../Memory/Decisions", from: "Tasks/x.md").path == "Memory/Decisions.md")
        #expect(links.resolve("../../etc/passwd", from: "Tasks/x.md") == LinkResolution(path: nil, judged: []))
        // A folder-qualified path that does not exist: judged by its own path.
        #expect(links.resolve("Private/Nothing", from: "Tasks/x.md") == LinkResolution(path: nil, judged: ["Private/Nothing.md"]))
    }

    /// Round 133: an alias asked of the index by its bytes alone missed `[[Café Plan]]` typed
    /// decomposed (macOS, many keyboards), and a task about a private note reached by its alias went
    /// to a cloud agent. An alias is found in any canonically equal form, as Swift's `==` has it:
    /// composed or not, its marks in any order, and through the three characters that are ASCII.
    @Test func anAliasIsFoundInAnyCanonicalFormOfItsName() throws {
        let v = RouteTestVault()
        v.write("Journal/Divorce.md", "---\nprivate: true\naliases: [Caf\u{E9} Plan]\n---\nSECRET\n")
        v.write("Journal/Loan.md", "---\naliases: [Vi\u{1EC7}t Money]\n---\nLoan.\n")
        // Marks written out of their canonical order (acute before dot below).
        v.write("Journal/Order.md", "---\naliases: [x\u{301}\u{323} Code]\n---\nOrder.\n")
        v.write("Journal/Semi.md", "---\naliases: [a\u{37E}b]\n---\nGreek question mark.\n")
        v.write("Journal/Plain.md", "---\naliases: [c;d]\n---\nSemicolon.\n")
        _ = try MemoryIndex(vault: v.vault).reconcile()
        let cases: [(String, String)] = [
            ("Cafe\u{301} Plan", "Journal/Divorce.md"), ("Caf\u{E9} Plan", "Journal/Divorce.md"), ("CAFE\u{301} plan", "Journal/Divorce.md"),
            ("Vie\u{323}\u{302}t Money", "Journal/Loan.md"), ("Vi\u{1EB9}\u{302}t Money", "Journal/Loan.md"),
            ("x\u{323}\u{301} Code", "Journal/Order.md"), ("x\u{301}\u{323} Code", "Journal/Order.md"),
            ("a;b", "Journal/Semi.md"), ("a\u{37E}b", "Journal/Semi.md"),
            ("c\u{37E}d", "Journal/Plain.md"), ("c;d", "Journal/Plain.md"),
        ]
        let index = try #require(try MemoryIndex.openForReading(vault: v.vault))
        for (link, note) in cases {
            // A resolver of its own each time: what one looked up first, it keeps.
            let resolution = LinkResolver(vault: v.vault).resolve(link, from: "Tasks/x.md")
            #expect(resolution.path == note, "\(Array(link.unicodeScalars))")
            // The index's tables (`backlinks`, `linksTaken`) read the alias alike (they compared bytes).
            #expect(try index.resolvedPath(link, from: "Tasks/x.md") == note, "index: \(Array(link.unicodeScalars))")
        }
        #expect(try index.resolvedPath("Cafe Plan", from: "Tasks/x.md") == nil)
        // Not a near miss: the accent, or the order of other letters, still counts.
        #expect(LinkResolver(vault: v.vault).resolve("Cafe Plan", from: "Tasks/x.md").path == nil)
        #expect(LinkResolver(vault: v.vault).resolve("a:b", from: "Tasks/x.md").path == nil)
        // And a task linking the private note so is private, as with the alias's own bytes.
        for link in ["Cafe\u{301} Plan", "Caf\u{E9} Plan"] {
            let facts = TaskFacts.from(text: "Summarize [[\(link)]] for me.", vault: v.vault, ruleBook: v.book, links: LinkResolver(vault: v.vault))
            #expect(facts.privateSources == ["Journal/Divorce.md"], "\(Array(link.unicodeScalars))")
        }
    }

    /// Round 135: a note moved from a folder the walk had not listed yet into one it had listed
    /// already was in neither listing, the link to it led nowhere, and a task linking a private note
    /// so went to a cloud agent as public. A link that finds nothing while a folder of the walk has
    /// changed since makes the resolver walk again, up to `walksAgain` times over its life.
    @Test func aLinkThatFindsNothingWhileAFolderChangedIsLookedUpInANewWalk() throws {
        let v = RouteTestVault()
        v.write("Notes/Other.md", "x\n")
        v.write("Journal/Plan.md", "x\n")
        let links = LinkResolver(vault: v.vault)
        #expect(links.resolve("Other", from: "Tasks/x.md").path == "Notes/Other.md")
        // After the walk: the private note comes into a folder it listed.
        v.write("Journal/Sec.md", "---\nprivate: true\n---\nSECRET\n")
        #expect(links.resolve("Sec", from: "Tasks/x.md").path == "Journal/Sec.md")
        // Each later note is found by walking again, until the resolver has walked again
        // `walksAgain` times; a note after that is not seen by it (as before), a new one sees it.
        for n in 2...LinkResolver.walksAgain {
            v.write("Journal/Later\(n).md", "x\n")
            #expect(links.resolve("Later\(n)", from: "Tasks/x.md").path == "Journal/Later\(n).md")
        }
        v.write("Journal/Last.md", "x\n")
        #expect(links.resolve("Last", from: "Tasks/x.md").path == nil)
        #expect(LinkResolver(vault: v.vault).resolve("Last", from: "Tasks/x.md").path == "Journal/Last.md")
        // A link that finds nothing in a folder with no change since its walk walks nothing again.
        let quiet = LinkResolver(vault: v.vault)
        let walks = Locked(0)
        quiet.afterWalk = { _ in walks.withLock { $0 += 1 } }
        #expect(quiet.resolve("Nowhere", from: "Tasks/x.md").path == nil)
        #expect(quiet.resolve("Nowhere", from: "Tasks/x.md").path == nil)
        #expect(walks.withLock { $0 } == 1)
        // Routing reads it so: the task linking the private note is private.
        let resolver = LinkResolver(vault: v.vault)
        _ = resolver.resolve("Other", from: "Tasks/x.md")
        v.write("Journal/Sec2.md", "---\nprivate: true\n---\nSECRET\n")
        let facts = TaskFacts.from(text: "Ask about [[Sec2]]", vault: v.vault, ruleBook: v.book, links: resolver)
        #expect(facts.privateSources == ["Journal/Sec2.md"])
    }

    /// Round 135 again: under a move every 10 ms, the walk made again was itself overtaken by the
    /// next move (2 of 150 tasks still went out as public). One lookup walks again while each walk
    /// finds nothing and a folder it listed changed meanwhile. Here each walk is followed by a
    /// change (what a move during it does), the note arriving only after the third.
    @Test func aLookupWalksAgainWhileEachWalkIsOvertakenByAChange() throws {
        let v = RouteTestVault()
        v.write("Notes/Other.md", "x\n")
        v.write("Journal/Plan.md", "x\n")
        let links = LinkResolver(vault: v.vault)
        let root = v.vault.root
        let walks = Locked<[Int]>([])
        links.afterWalk = { again in
            walks.withLock { $0.append(again) }
            let into = again < 2 ? "Notes/Churn\(again).md" : "Journal/Sec.md"
            FileManager.default.createFile(atPath: root + "/" + into, contents: Data("---\nprivate: true\n---\nSECRET\n".utf8))
        }
        #expect(links.resolve("Sec", from: "Tasks/x.md").path == "Journal/Sec.md")
        #expect(walks.withLock { $0 } == [0, 1, 2, 3])
    }

    /// Round 135 once more: the walk listed the private note where it was, and it was moved before
    /// the link was looked up: the link led to a file no longer there, privacy read nothing and the
    /// task went to a cloud agent as public (3 of 150 under a move every 10 ms). A file the walk
    /// found that is gone is looked up in a new walk.
    @Test func aLinkToAFileMovedSinceItsFolderWasListedIsLookedUpAgain() throws {
        let v = RouteTestVault()
        // Private by its frontmatter, in folders that are not private.
        v.write("Notes/Sec.md", "---\nprivacy: private\n---\nSECRET\n")
        v.write("Work/Other.md", "x\n")
        let root = v.vault.root
        let links = LinkResolver(vault: v.vault)
        links.afterWalk = { again in
            guard again == 0 else { return }
            rename(root + "/Notes/Sec.md", root + "/Work/Sec.md")
        }
        let facts = TaskFacts.from(text: "Ask about [[Sec]]", vault: v.vault, ruleBook: v.book, links: links)
        #expect(facts.privateSources == ["Work/Sec.md"])
        #expect(facts.contextPaths == ["Work/Sec.md"])
    }

    /// `IndexedAlias.asciiTwins` holds every character whose canonical decomposition is plain ASCII:
    /// a key beyond ASCII is compared with an ASCII one only when it holds one of them.
    @Test func everyCharacterThatIsCanonicallyASCIIIsATwin() {
        var twins: Set<Character> = []
        for value in UInt32(0x80)..<0x11_0000 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let decomposed = String(scalar).decomposedStringWithCanonicalMapping
            if decomposed.utf8.allSatisfy({ $0 < 0x80 }) { twins.formUnion(decomposed) }
        }
        #expect(twins == IndexedAlias.asciiTwins)
        #expect(IndexedAlias.mayEqualBeyondASCII("caf\u{E9}") && IndexedAlias.mayEqualBeyondASCII("a;b") && !IndexedAlias.mayEqualBeyondASCII("plain name"))
    }

    @Test func theIndexResolvesNotesExactlyAsTheVaultWalkDoes() throws {
        let v = try Self.vault()
        let links = LinkResolver(vault: v.vault)
        let index = try #require(try MemoryIndex.openForReading(vault: v.vault))
        let targets = ["Note", "note.md", "Tasks/Note", "Alpha", "projects/alpha", "Decisions", "Canvas", "Plugins/Canvas",
                       "Nick", "Twin", "../Memory/Decisions", "Nowhere", "Private/Nothing", "../../x"]
        for source in ["Tasks/x.md", "en/Guide.md", "de/Anleitung.md", "Home.md"] {
            for target in targets {
                #expect(try index.resolvedPath(target, from: source) == links.resolve(target, from: source).path, "\(target) from \(source)")
            }
        }
    }

    @Test func oneWalkServesEveryResolverAndOnlyChangedFoldersAreListedAgain() throws {
        let v = RouteTestVault()
        v.write("Projects/Deep/Plan.md", "x\n")
        v.write("Projects/Other/Note.md", "x\n")
        // Folder times within the racy margin of a walk prove nothing: let them age first.
        Thread.sleep(forTimeInterval: 0.25)
        func listed() -> Int { VaultFiles.foldersListed.withLock { $0[v.vault.root] ?? 0 } }
        let before = listed()
        #expect(LinkResolver(vault: v.vault).resolve("Plan", from: "Tasks/a.md").path == "Projects/Deep/Plan.md")
        let firstWalk = listed() - before
        #expect(firstWalk >= 5, "root, Projects, Deep, Other and the vault's own folders")
        #expect(LinkResolver(vault: v.vault).resolve("Plan", from: "Tasks/b.md").path == "Projects/Deep/Plan.md")
        #expect(listed() == before + firstWalk)
        // A note with the same name created in a new private folder: the next resolver lists the root
        // (its time moved) and the new folder, nothing else, and privacy judges both notes (neither
        // is nearer), at once — no stale walk hides it.
        v.write("Private/Plan.md", "secret\n")
        let after = LinkResolver(vault: v.vault).resolve("Plan", from: "Tasks/a.md")
        #expect(after.path == nil && Set(after.judged).isSuperset(of: ["Projects/Deep/Plan.md", "Private/Plan.md"]), "\(after)")
        #expect(listed() == before + firstWalk + 2)
        let facts = TaskFacts.from(text: "summarize [[Plan]]", vault: v.vault, ruleBook: v.book, links: LinkResolver(vault: v.vault))
        #expect(facts.privateSources.contains("Private/Plan.md"))
        // A folder renamed: its old path resolves to nothing, its new one (and what lies under it) does.
        Thread.sleep(forTimeInterval: 0.25)
        #expect(rename(v.vault.root + "/Projects", v.vault.root + "/Work") == 0)
        let moved = LinkResolver(vault: v.vault)
        #expect(moved.resolve("Projects/Other/Note", from: "Tasks/a.md").path == nil)
        #expect(moved.resolve("Note", from: "Tasks/a.md").path == "Work/Other/Note.md")
        #expect(moved.resolve("Deep/Plan", from: "Tasks/a.md").path == "Work/Deep/Plan.md")
        // A file removed deep down: only its folder is listed again (once the folders the rename
        // changed, listed too near it to be trusted, have been listed again).
        Thread.sleep(forTimeInterval: 0.25)
        #expect(LinkResolver(vault: v.vault).resolve("Note", from: "Tasks/a.md").path == "Work/Other/Note.md")
        let beforeRemoval = listed()
        try FileManager.default.removeItem(atPath: v.vault.root + "/Work/Other/Note.md")
        #expect(LinkResolver(vault: v.vault).resolve("Note", from: "Tasks/a.md").path == nil)
        #expect(listed() == beforeRemoval + 1)
    }

    @Test func aFolderChangedJustBeforeItWasListedIsListedAgainNextTime() throws {
        let v = RouteTestVault()
        func listed() -> Int { VaultFiles.foldersListed.withLock { $0[v.vault.root] ?? 0 } }
        // Written just now: a file created in the same tick of the file system's clock after the
        // listing would leave the folder's time unchanged, so a listing this fresh is not reused,
        // though nothing changed since. Judged only when the listing came within the margin of the
        // write (a busy machine may be slower; then it is tried again, in a new folder).
        var judged = 0
        for attempt in 1...5 where judged == 0 {
            let writing = FileSystem.realtimeNanoseconds()
            v.write("Fresh\(attempt)/One\(attempt).md", "x\n")
            // By name, not by an exact path (which is looked at without a walk).
            #expect(LinkResolver(vault: v.vault).resolve("One\(attempt)", from: "Tasks/a.md").path == "Fresh\(attempt)/One\(attempt).md")
            guard FileSystem.realtimeNanoseconds() - writing < VaultFiles.racyMargin else { continue }
            let before = listed()
            #expect(LinkResolver(vault: v.vault).resolve("One\(attempt)", from: "Tasks/b.md").path == "Fresh\(attempt)/One\(attempt).md")
            #expect(listed() > before)
            judged += 1
        }
        #expect(judged == 1, "the listing never came within the racy margin of the write")
        // Once the times are old, a resolver lists nothing again.
        Thread.sleep(forTimeInterval: 0.25)
        #expect(LinkResolver(vault: v.vault).resolve("One1", from: "Tasks/a.md").path == "Fresh1/One1.md")
        let settled = listed()
        #expect(LinkResolver(vault: v.vault).resolve("One1", from: "Tasks/b.md").path == "Fresh1/One1.md")
        #expect(listed() == settled)
    }

    @Test func aFolderWhoseModificationTimeIsSetBackStillShowsItsNewFile() throws {
        let v = RouteTestVault()
        v.write("Projects/Plan.md", "x\n")
        v.write("Private/Old.md", "x\n")
        Thread.sleep(forTimeInterval: 0.25)
        let folder = v.vault.root + "/Private"
        let before = try #require(try FileSystem.status(folder)).mtimeNanoseconds
        #expect(LinkResolver(vault: v.vault).resolve("Plan", from: "Tasks/a.md").path == "Projects/Plan.md")
        // A same-named private note, then the folder's time put back as `touch -d` or `rsync -t` do.
        v.write("Private/Plan.md", "secret\n")
        let back = timespec(tv_sec: Int(before / 1_000_000_000), tv_nsec: Int(before % 1_000_000_000))
        var times = [back, back]
        #expect(utimensat(AT_FDCWD, folder, &times, 0) == 0)
        #expect(try #require(try FileSystem.status(folder)).mtimeNanoseconds == before)
        let after = LinkResolver(vault: v.vault).resolve("Plan", from: "Tasks/a.md")
        #expect(after.judged.contains("Private/Plan.md"), "\(after)")
    }

    @Test func aFileAddedDeepInAnExistingFolderOrRemovedIsSeenByTheNextResolver() throws {
        let v = RouteTestVault()
        v.write("A/B/C/One.md", "x\n")
        Thread.sleep(forTimeInterval: 0.25)
        #expect(LinkResolver(vault: v.vault).resolve("Two", from: "Tasks/a.md").path == nil)
        // Created right after the walk, in the same clock tick or not: the folder's time moved, or the
        // walk was racy and is not reused.
        v.write("A/B/C/Two.md", "x\n")
        #expect(LinkResolver(vault: v.vault).resolve("Two", from: "Tasks/a.md").path == "A/B/C/Two.md")
        try FileManager.default.removeItem(atPath: v.vault.root + "/A/B/C/One.md")
        #expect(LinkResolver(vault: v.vault).resolve("One", from: "Tasks/a.md").path == nil)
        // Written over in place: the folder does not change, and the name still resolves.
        v.write("A/B/C/Two.md", "y\n")
        #expect(LinkResolver(vault: v.vault).resolve("Two", from: "Tasks/a.md").path == "A/B/C/Two.md")
    }

    /// Every file under the vault (no dot files or folders), as the walk should find them.
    private static func filesOnDisk(_ root: String) -> [String] {
        var found: [String] = []
        var pending = [""]
        while let relative = pending.popLast() {
            let absolute = relative.isEmpty ? root : root + "/" + relative
            for name in (try? FileManager.default.contentsOfDirectory(atPath: absolute)) ?? [] where !name.hasPrefix(".") {
                let path = relative.isEmpty ? name : relative + "/" + name
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isFolder) else { continue }
                if isFolder.boolValue { pending.append(path) } else { found.append(path) }
            }
        }
        return found
    }

    /// The walk keeps the folders listed again in an overlay over the last full build (a burst
    /// changes `Tasks/` and `Results/` at every task, and rebuilding every map copied the whole
    /// vault's each time). Random creates, removals, renames of files and folders, names differing
    /// only by case: after each, every name and path ever used answers as a listing of the disk
    /// does — and changes to a few folders of a larger vault never rebuild the maps whole.
    @Test func theOverlayOfFoldersListedAgainAnswersAsTheDiskDoes() throws {
        let v = RouteTestVault(rules: false)
        for i in 0..<300 { v.write("Base/F\(i % 6)/N\(i).md", "x\n") }
        var generator = SystemRandomNumberGenerator()
        let folders = ["Tasks", "Results", "Tasks/Sub", "tasks", "Base/F1", "Private", "Deep/A/B"]
        let names = ["One", "Two", "one", "Three", "N3", "Plan"]
        var used = Set<String>()
        func check(_ step: Int) {
            let disk = Self.filesOnDisk(v.root)
            let table = VaultFiles.current(v.vault)
            for path in disk {
                used.insert(path)
                #expect(table.file(lowercasedPath: path.lowercased())?.lowercased() == path.lowercased(), "step \(step): \(path)")
            }
            let onDisk = Set(disk.map { $0.lowercased() })
            for path in used where !onDisk.contains(path.lowercased()) {
                #expect(table.file(lowercasedPath: path.lowercased()) == nil, "step \(step): \(path) is gone")
            }
            let names = Set(used.map { ($0.split(separator: "/").last.map(String.init) ?? $0).lowercased() })
            for name in names {
                let expected = Set(disk.filter { ($0.split(separator: "/").last.map(String.init) ?? $0).lowercased() == name })
                #expect(Set(table.files(lowercasedName: name)) == expected, "step \(step): \(name)")
                #expect(table.files(lowercasedName: name).count == expected.count, "step \(step): \(name) once each")
            }
        }
        check(0)
        Thread.sleep(forTimeInterval: 0.25)
        let buildsBefore = VaultFiles.fullBuilds.withLock { $0[v.vault.root] ?? 0 }
        for step in 1...60 {
            let folder = folders.randomElement(using: &generator)!
            let name = names.randomElement(using: &generator)!
            let path = folder + "/" + name + ".md"
            switch Int.random(in: 0..<5, using: &generator) {
            case 0, 1: v.write(path, "x\n")
            case 2: v.remove(path)
            case 3:
                let other = folders.randomElement(using: &generator)! + "/" + names.randomElement(using: &generator)! + ".md"
                if FileManager.default.fileExists(atPath: v.root + "/" + path) {
                    v.write(other, "")
                    _ = rename(v.root + "/" + path, v.root + "/" + other)
                }
            default:
                // A whole folder goes, or comes back under another name.
                if Bool.random(using: &generator) { v.remove(folder) } else if FileManager.default.fileExists(atPath: v.root + "/" + folder) {
                    v.remove("Moved")
                    _ = rename(v.root + "/" + folder, v.root + "/Moved")
                }
            }
            check(step)
            if step % 20 == 0 { Thread.sleep(forTimeInterval: 0.15) }
        }
        // Small changes in a few folders of a vault of 300 files: the overlay held them all.
        #expect(VaultFiles.fullBuilds.withLock { $0[v.vault.root] ?? 0 } - buildsBefore <= 1)
    }

    /// Folders that change at every task and hold many notes (a vault's `Tasks/` and `Results/` after
    /// months of runs) stay in the overlay: the maps were built whole for nearly every packet of a
    /// burst once the two held more than a quarter of the vault's files.
    @Test func bigFoldersChangingAtEveryTaskDoNotRebuildTheMapsWhole() throws {
        let v = RouteTestVault(rules: false)
        for i in 0..<3000 { v.write("Base/F\(i % 30)/N\(i).md", "x\n") }
        for i in 0..<1200 {
            v.write("Tasks/T\(i).md", "x\n")
            v.write("Results/R\(i).md", "x\n")
        }
        _ = VaultFiles.current(v.vault)
        Thread.sleep(forTimeInterval: 0.25)
        let before = VaultFiles.fullBuilds.withLock { $0[v.vault.root] ?? 0 }
        for i in 0..<8 {
            v.write("Tasks/New\(i).md", "x\n")
            v.write("Results/New\(i).md", "x\n")
            let table = VaultFiles.current(v.vault)
            #expect(table.file(lowercasedPath: "tasks/new\(i).md") == "Tasks/New\(i).md")
            #expect(table.files(lowercasedName: "new\(i).md").sorted() == ["Results/New\(i).md", "Tasks/New\(i).md"])
            #expect(table.file(lowercasedPath: "base/f1/n1.md") == "Base/F1/N1.md")
        }
        #expect(VaultFiles.fullBuilds.withLock { $0[v.vault.root] ?? 0 } - before == 0)
    }

    /// A folder listed again is mapped from its maps before, with only the files added and removed
    /// looked at; two names differing only by case share a key, and the one left keeps it.
    @Test func aFolderListedAgainKeepsTheFileLeftOfTwoThatDifferByCase() throws {
        let v = RouteTestVault(rules: false)
        for i in 0..<20 { v.write("Base/N\(i).md", "x\n") }
        v.write("Private/One.md", "x\n")
        v.write("Private/one.md", "x\n")
        v.write("Private/Two.md", "x\n")
        func settle() { Thread.sleep(forTimeInterval: 0.25) }
        settle()
        _ = VaultFiles.current(v.vault)
        v.write("Private/Three.md", "x\n")
        settle()
        #expect(Set(VaultFiles.current(v.vault).files(lowercasedName: "one.md")) == ["Private/One.md", "Private/one.md"])
        for gone in ["Private/one.md", "Private/One.md"] {
            v.remove(gone)
            settle()
            let table = VaultFiles.current(v.vault)
            let left = Self.filesOnDisk(v.root).filter { $0.lowercased() == "private/one.md" }
            #expect(table.file(lowercasedPath: "private/one.md") == left.first, "after \(gone)")
            #expect(table.files(lowercasedName: "one.md") == left)
            #expect(table.file(lowercasedPath: "private/three.md") == "Private/Three.md")
        }
    }

    @Test func aSharedResolverFindsNotesCreatedAfterInvalidate() {
        let v = RouteTestVault()
        let links = LinkResolver(vault: v.vault)
        #expect(links.resolve("Later", from: "Tasks/a.md").path == nil)
        v.write("Private/Deep/Later.md", "x\n")
        links.invalidate()
        #expect(links.resolve("Later", from: "Tasks/a.md").path == "Private/Deep/Later.md")
        let f = TaskFacts.from(text: "summarize [[Later]]", vault: v.vault, ruleBook: v.book, links: links)
        #expect(f.privateSources == ["Private/Deep/Later.md"])
    }
}

/// Routing and the context packet share one resolution per task: a note reached through a heading,
/// a block or an alias is judged by privacy and sent to the agent exactly as a plain link to it is.
@Suite struct OneResolvedSetTests {
    /// Plans a note as the watcher does (packet included), releases any reservation, and gives the
    /// facts routing judged.
    static func plan(_ v: RouteTestVault, _ path: String, _ text: String) throws -> (RoutePlan, TaskFacts) {
        v.write(path, text)
        let routing = try VaultRouting(vault: v.vault)
        let snapshot = try NoteStore(vault: v.vault).read(path)
        let note = try Note.parse(bytes: snapshot.bytes)
        let task = TaskNote(path: path, snapshot: snapshot, note: note, kind: TaskNote.kind(of: note, path: path) ?? .task)
        let plan = routing.plan(task, runID: RunStore.newRunID())
        routing.settle(plan, cost: nil)
        return (plan, TaskFacts.from(note: note, path: path, vault: v.vault, ruleBook: v.book))
    }

    static func isPremiumRun(_ plan: RoutePlan) -> Bool {
        plan.action == .run && !(Lane(note: plan.lane)?.keepsWorkLocal ?? false)
    }

    /// Ways of reaching `Notes/Note.md` (alias `Nick`, heading `Part`, block `^b1`) from a task.
    static let reaches: [(name: String, properties: String, body: String)] = [
        ("plain link", "", "See [[Note]]."),
        ("context heading link", "context: [\"[[Note#Part]]\"]\n", "Do it."),
        ("body heading link", "", "See [[Notes/Note#Part|the part]]."),
        ("block link", "", "See [[Note#^b1]]."),
        ("alias in the body", "", "See [[Nick]]."),
        ("alias in context", "context: [\"[[nick#Part]]\"]\n", "Do it."),
        ("embed", "", "![[note]]"),
        ("markdown link", "", "See [it](Notes/Note.md#Part)."),
    ]

    @Test(arguments: reaches.indices)
    func aPublicNoteReachesThePacketHoweverItIsLinked(_ i: Int) throws {
        let (name, properties, body) = Self.reaches[i]
        let v = RouteTestVault()
        v.write("Notes/Note.md", "---\naliases: [Nick]\n---\nIntro.\n\n## Part\n\nPUBLICPART text ^b1\n")
        _ = try MemoryIndex(vault: v.vault).reconcile()
        let (plan, facts) = try Self.plan(v, "Tasks/T.md", "---\ntype: task\nagent: claude\n\(properties)---\n\(body)\n")
        #expect(facts.contextPaths == ["Notes/Note.md"], "\(name)")
        #expect(facts.privateSources.isEmpty, "\(name)")
        #expect(Self.isPremiumRun(plan), "\(name): \(plan.action)")
        #expect(plan.sources == ["Notes/Note.md"], "\(name)")
        #expect(plan.prompt.contains("PUBLICPART"), "\(name): the linked note reaches the agent")
    }

    @Test(arguments: reaches.indices)
    func aPrivateNoteBlocksTheCloudHoweverItIsLinked(_ i: Int) throws {
        let (name, properties, body) = Self.reaches[i]
        let v = RouteTestVault()
        v.write("Notes/Note.md", "---\naliases: [Nick]\nprivacy: private\n---\nIntro.\n\n## Part\n\nPRIVATEPART text ^b1\n")
        _ = try MemoryIndex(vault: v.vault).reconcile()
        let (plan, facts) = try Self.plan(v, "Tasks/T.md", "---\ntype: task\nagent: claude\n\(properties)---\n\(body)\n")
        #expect(facts.contextPaths == ["Notes/Note.md"], "\(name)")
        #expect(facts.privateSources == ["Notes/Note.md"], "\(name)")
        #expect(!Self.isPremiumRun(plan), "\(name): a private note reached the cloud: \(plan.action)")
        #expect(plan.privacy?.contains("Notes/Note.md") == true, "\(name): \(plan.privacy ?? "no privacy reason")")
    }

    /// An attacker's ways of naming private notes so that one resolver misses what another finds.
    static let attacks: [(properties: String, body: String)] = [
        ("", "[[private/note]]"),
        ("", "[[Private/Note.md]]"),
        ("", "[[Note|shown]]"),
        ("", "![[Note]]"),
        ("", "| cell | [[Note\\|shown]] |"),
        ("", "[text](Private/Note.md)"),
        ("", "[text](private/note.md#Part)"),
        ("", "[text](Notes/Secret%20Plan.md)"),
        ("", "[text](<Notes/Secret Plan.md>)"),
        ("", "[[secret plan#^b1]]"),
        ("", "[[SECRET PLAN]]"),
        ("", "[[Hidden name]]"),
        ("", "[[Report]]"),
        ("", "[[Private/Nothing]]"),
        ("", "[[journal/does not exist#Part]]"),
        ("context: [\"Private/Note\"]\n", "Do it."),
        ("context: [\"[[Note#Part|x]]\"]\n", "Do it."),
        ("", "`[[Private/Note]]`"),
    ]

    @Test(arguments: attacks.indices)
    func noWayOfNamingAPrivateNoteReachesTheCloud(_ i: Int) throws {
        let (properties, body) = Self.attacks[i]
        let v = RouteTestVault()
        v.write("Private/Note.md", "## Part\n\nMARKER one\n")
        v.write("Notes/Secret Plan.md", "---\nprivacy: private\naliases: [Hidden name]\n---\nMARKER two ^b1\n")
        v.write("Public/Report.md", "Public report.\n")
        v.write("Private/Report.md", "MARKER three\n")
        _ = try MemoryIndex(vault: v.vault).reconcile()
        let (plan, facts) = try Self.plan(v, "Tasks/T.md", "---\ntype: task\nagent: claude\n\(properties)---\n\(body)\n")
        #expect(!Self.isPremiumRun(plan), "\(body) \(properties): \(plan.action)")
        #expect(!facts.privateSources.isEmpty, "\(body) \(properties)")
    }

    @Test func aHandoffsTaskLinkWithAnAnchorFindsItsTask() throws {
        let v = RouteTestVault()
        v.write("Tasks/Original.md", "---\ntype: task\n---\nORIGINAL\n")
        let note = try Note.parse("---\ntype: handoff\ntask: \"[[tasks/original#Plan|the task]]\"\n---\nGo on.\n")
        #expect(Handoffs.taskPath(of: note, vault: v.vault, from: "Handoffs/H.md") == "Tasks/Original.md")
        let (plan, facts) = try Self.plan(v, "Handoffs/H.md", "---\ntype: handoff\nfrom: me\nto: claude\ntask: \"[[tasks/original#Plan|the task]]\"\n---\nGo on.\n")
        #expect(facts.contextPaths == ["Tasks/Original.md"])
        #expect(plan.prompt.contains("ORIGINAL"))
    }

    @Test func withoutAnIndexAnAliasReadsNothingAndSendsNothing() throws {
        let v = RouteTestVault()
        v.write("Notes/Note.md", "---\naliases: [Nick]\n---\nALIASED text\n")
        // No index: aliases are unknown, so the link stays unresolved for privacy and packet alike.
        let (plan, facts) = try Self.plan(v, "Tasks/T.md", "---\ntype: task\nagent: claude\n---\nSee [[Nick]].\n")
        #expect(facts.contextPaths == ["Nick.md"])
        #expect(plan.sources.isEmpty)
        #expect(!plan.prompt.contains("ALIASED"))
        // Once indexed, the same link reaches the note in both.
        _ = try MemoryIndex(vault: v.vault).reconcile()
        let (indexed, indexedFacts) = try Self.plan(v, "Tasks/T.md", "---\ntype: task\nagent: claude\n---\nSee [[Nick]].\n")
        #expect(indexedFacts.contextPaths == ["Notes/Note.md"])
        #expect(indexed.sources == ["Notes/Note.md"])
        #expect(indexed.prompt.contains("ALIASED"))
    }

    @Test func aSharedNameResolvesToTheNearestNoteAndOnlyThatOneIsSent() throws {
        let v = RouteTestVault()
        v.write("Public/Report.md", "PUBLICREPORT\n")
        v.write("Private/Report.md", "MARKER three\n")
        let (plan, facts) = try Self.plan(v, "Public/Task.md", "---\ntype: task\nagent: claude\n---\nSummarize [[Report]].\n")
        #expect(facts.contextPaths == ["Public/Report.md"])
        #expect(Self.isPremiumRun(plan), "\(plan.action)")
        #expect(plan.prompt.contains("PUBLICREPORT"))
        #expect(!plan.prompt.contains("MARKER"))
        // From a folder equally near both, the link means either: nothing is sent, and it stays local.
        let (fromTasks, tasksFacts) = try Self.plan(v, "Tasks/T.md", "---\ntype: task\nagent: claude\n---\nSummarize [[Report]].\n")
        #expect(tasksFacts.privateSources == ["Private/Report.md"])
        #expect(!Self.isPremiumRun(fromTasks))
        #expect(!fromTasks.prompt.contains("MARKER") && !fromTasks.prompt.contains("PUBLICREPORT"))
    }

    /// A person's note named with a dot (`setup.sh.md`) keeps its links when a file of the bare name
    /// is elsewhere: a name is tried with `.md` first (round 131, when the file was tried first,
    /// moved `[[setup.sh]]` off the note). `hasOtherExtension` tells `linksTaken` which links may
    /// open an attachment.
    @Test func aNoteNamedWithADotKeepsItsLinks() throws {
        #expect(["Attach/Photo.png", "Board.canvas", "scan.PDF", "Sketch.excalidraw", "scan.001"].allSatisfy(LinkResolver.hasOtherExtension))
        #expect(!["Dr. Who", "Plan", "Notes/Plan.md", ".hidden"].contains(where: LinkResolver.hasOtherExtension))
        let v = RouteTestVault()
        v.write("Scripts/setup.sh", "echo hi")
        v.write("Memory/setup.sh.md", "# the setup\n")
        v.write("Attach/Photo.png", "PNG")
        let links = LinkResolver(vault: v.vault)
        #expect(links.resolve("setup.sh", from: "Inbox/A.md").path == "Memory/setup.sh.md")
        #expect(links.resolve("Photo.png", from: "Inbox/A.md").path == "Attach/Photo.png")
    }
}
