import Foundation
import Testing
@testable import AgentOS

/// Round 127's F1: a cloud agent asked `route {text}` (read-only) or `create_task` about a text
/// holding a glob on disk into the vault (`<vault>/Life/2019/Therapy/Div*`): one matching a private
/// note was refused and one matching nothing routed, so some 700 calls spelled a private note's
/// folders and name out. A glob into the vault is now refused whatever it matches. (A bare name
/// or path still tells a private note from a missing one, one guess a call: docs/security.md.)
@Suite struct ExistenceProbeTests {
    let v = RouteTestVault()
    let tools: MCPTools

    init() {
        v.writeStandardRules()
        v.write("Life/2019/Therapy/Divorce.md", "---\nprivate: true\n---\n# Divorce\n\nPRIVATE TEXT.\n")
        v.write("Life/Cancer diagnosis.md", "---\nprivate: true\n---\nPRIVATE TEXT.\n")
        v.write("Life/Walks.md", "# Walks\n\nPublic walks.\n")
        v.write("Life/2020/Hikes.md", "# Hikes\n\nPublic hikes.\n")
        v.write("Life/2020/Lover.md", "---\nprivate: true\n---\nPRIVATE TEXT.\n")
        v.write("Memory/Tapir.md", "# Tapir\n\n## Part\n\nTapirs are public.\n")
        v.write("Memory/Public note.md", "# Public note\n\nPublic.\n")
        tools = MCPTools(vault: v.vault, scope: MCPScope(vault: v.vault, agent: "claude", environment: [:]))
    }

    /// The answer of `tool`, with `name` written as `X`: "ERROR …" for a refusal.
    func answer(_ tool: String, _ arguments: [(String, JSON)], hiding name: String) -> String {
        let reply = tools.call(tool, arguments: .object(arguments))
        let error = reply.first { $0.0 == "isError" }?.1.boolValue == true
        let text = reply.first { $0.0 == "content" }?.1.arrayValue?.first?["text"]?.stringValue ?? ""
        return ((error ? "ERROR " : "") + text).replacingOccurrences(of: name, with: "X")
    }

    /// Pairs of texts, the first globbing the private note (or folder), the second a missing one,
    /// and the part that differs (hidden when the answers are compared).
    var probes: [(String, String, String, String)] {
        let root = v.root
        // The vault's folder by a glob too (`/tmp/fbt-route-*`).
        let above = (root as NSString).deletingLastPathComponent + "/" + (root as NSString).lastPathComponent.prefix(10) + "*"
        return [
            ("ls \(above)/Life/2020/Lov*", "ls \(above)/Life/2020/Lxv*", "Lov", "Lxv"),
            ("ls \(root)/Life/2019/Therapy/Div*", "ls \(root)/Life/2019/Therapy/Dxv*", "Div", "Dxv"),
            ("ls \(root)/Life/*/*/Div*", "ls \(root)/Life/*/*/Dxv*", "Div", "Dxv"),
            ("ls \(root)/Life/2019/Therapy/D?vorce.md", "ls \(root)/Life/2019/Therapy/D?xorce.md", "D?vorce", "D?xorce"),
            // (A glob in a folder that holds a public note too.)
            ("ls \(root)/Life/2020/Lov*", "ls \(root)/Life/2020/Lxv*", "Lov", "Lxv"),
            ("ls \(root)/Life/2020/{Hikes,Lover}.md", "ls \(root)/Life/2020/{Hikes,Lxver}.md", "Lover", "Lxver"),
            ("ls \(root)/Life/2020/[L]over.md", "ls \(root)/Life/2020/[L]xver.md", "over", "xver"),
        ]
    }

    @Test func routeAnswersAGlobOfAPrivateNameAndOfAMissingOneAlike() {
        for (secret, missing, a, b) in probes {
            let one = answer("route", [("text", .string(secret))], hiding: a)
            let other = answer("route", [("text", .string(missing))], hiding: b)
            #expect(one.hasPrefix("ERROR ") && one == other, "\(secret): \(one) | \(other)")
        }
    }

    @Test func createTaskAnswersAGlobOfAPrivateNameAndOfAMissingOneAlikeAndWritesNothing() throws {
        let before = (try? FileManager.default.contentsOfDirectory(atPath: v.root + "/Tasks").sorted()) ?? []
        for (secret, missing, a, b) in probes {
            for field in ["prompt", "title"] {
                var one = answer("create_task", [(field, .string(secret))] + (field == "title" ? [("prompt", .string("go"))] : []), hiding: a)
                var other = answer("create_task", [(field, .string(missing))] + (field == "title" ? [("prompt", .string("go"))] : []), hiding: b)
                // (A title that is not a file name is refused as such, before any note is looked for.)
                one = one.replacingOccurrences(of: secret.replacingOccurrences(of: a, with: "X"), with: "T")
                other = other.replacingOccurrences(of: missing.replacingOccurrences(of: b, with: "X"), with: "T")
                #expect(one.hasPrefix("ERROR ") && one == other, "\(field) \(secret): \(one) | \(other)")
            }
        }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: v.root + "/Tasks").sorted()) ?? []) == before)
    }

    /// `route {text}` (read-only, no trace) reads no name written without a link for a cloud agent:
    /// a private note's bare name, path, path on disk or Obsidian URL is routed as a missing one's.
    @Test func routeOfATextAnswersABareNameOfAPrivateNoteAsOfAMissingOne() {
        let root = v.root
        let pairs: [(String, String, String, String)] = [
            ("see Divorce.md please", "see Nothere.md please", "Divorce", "Nothere"),
            ("see divorce.MD please", "see nothere.MD please", "divorce", "nothere"),
            ("see x://Divorce.md", "see x://Nothere.md", "Divorce", "Nothere"),
            ("Life/2019/Therapy/Divorce.md", "Life/2019/Therapy/Nothere.md", "Divorce", "Nothere"),
            ("cat \(root)/Life/2019/Therapy/Divorce", "cat \(root)/Life/2019/Therapy/Nothere", "Divorce", "Nothere"),
            ("ls \(root)/Life/2019/Therapy", "ls \(root)/Life/2019/Therxpy", "Therapy", "Therxpy"),
            ("open obsidian://open?vault=v&file=Life%2F2019%2FTherapy%2FDivorce", "open obsidian://open?vault=v&file=Life%2F2019%2FTherapy%2FNothere", "Divorce", "Nothere"),
            ("<a href=\"Life/2019/Therapy/Divorce.md\">x</a>", "<a href=\"Life/2019/Therapy/Nothere.md\">x</a>", "Divorce", "Nothere"),
            ("read the Cancer diagnosis.md today", "read the Cancer diagnoxis.md today", "diagnosis", "diagnoxis"),
            ("file:\(root)/Life/2019/Therapy/Divorce.md", "file:\(root)/Life/2019/Therapy/Nothere.md", "Divorce", "Nothere"),
        ]
        for (secret, missing, a, b) in pairs {
            let one = answer("route", [("text", .string(secret))], hiding: a)
            let other = answer("route", [("text", .string(missing))], hiding: b)
            #expect(!one.hasPrefix("ERROR ") && one == other, "\(secret): \(one) | \(other)")
        }
        // Nor a note it wrote itself naming the guess so (round 131): `route {path}` of it.
        // (All written first: a note is shown once it has been unchanged for a second.)
        for (i, (secret, missing, _, _)) in pairs.enumerated() {
            for (j, text) in [secret, missing].enumerated() {
                _ = answer("write_note", [("path", .string("Memory/guess-\(i)-\(j).md")), ("text", .string(text + "\n")), ("create", .bool(true))], hiding: "\u{0}")
            }
        }
        for (i, (secret, _, a, b)) in pairs.enumerated() {
            let answers = [(0, a), (1, b)].map { j, name in
                answer("route", [("path", .string("Memory/guess-\(i)-\(j).md"))], hiding: name).replacingOccurrences(of: "guess-\(i)-\(j)", with: "P")
            }
            #expect(answers[0] == answers[1], "\(secret): \(answers)")
        }
        // The person still has such a text routed as private.
        let person = FourthAttackTests.cli(["route", "summarise Life/2019/Therapy/Divorce.md for me"], v, runID: nil)
        #expect(person.out.contains("private"), "\(person.out)")
    }

    /// Texts an agent writes about code and files are routed as before: names of files that are no
    /// notes, paths outside the vault, web addresses, globs outside the vault.
    @Test func honestTextsStillRoute() {
        let root = v.root
        for text in [
            "see Tapir.md please", "Memory/Tapir.md", "look at \(root)/Memory/Tapir.md", "cat \(root)/Memory/Tapir",
            "ls \(root)/Memory/", "read Public note.md today", "[below](#Part)", "[[Tapir]]",
            "Bump the version in package.json and CHANGELOG.md", "Read CONTRIBUTING.md and AGENTS.md first",
            "Write the summary to /tmp/report.md", "Rename v1.2.md to v1.3.md",
            "see https://github.com/example/repo/blob/main/README.md and [site](https://example.com/a.md)",
            "ls /usr/lib/*.so and grep -r tapir /usr/share/doc", "summarise the walks",
        ] {
            let reply = answer("route", [("text", .string(text))], hiding: "\u{0}")
            #expect(!reply.hasPrefix("ERROR "), "\(text): \(reply)")
        }
    }

    /// Round 129: a note the agent wrote itself, made from a guessed name (`sources: [divorce.md]`,
    /// `task: …`), was private — and unreadable to it — exactly when the guess was a private note.
    /// Such an entry must name a note it may see; a web address names none and is let through.
    @Test func aNoteMadeFromAGuessedNameIsRefusedAlikeForPrivateAndMissing() {
        for (key, form) in [("sources", "[%@]"), ("sources", "[\"[[%@]]\"]"), ("task", "\"[[%@]]\""), ("handoff", "%@.md")] {
            var answers: [String] = []
            for (i, guess) in ["divorce.md", "dxvorce.md"].enumerated() {
                let value = form.replacingOccurrences(of: "%@", with: guess)
                let text = "---\ntype: result\n\(key): \(value)\n---\nA summary.\n"
                let path = "Memory/made-\(key)-\(answers.count)-\(i).md"
                let wrote = answer("write_note", [("path", .string(path)), ("text", .string(text)), ("create", .bool(true))], hiding: "\u{0}")
                answers.append(wrote.replacingOccurrences(of: path, with: "P").replacingOccurrences(of: guess, with: "X"))
                #expect(!FileManager.default.fileExists(atPath: v.root + "/" + path), "\(key) \(value)")
            }
            #expect(answers[0].hasPrefix("ERROR ") && answers[0] == answers[1], "\(key): \(answers)")
        }
        // Added later by a property edit: the same.
        _ = answer("write_note", [("path", .string("Memory/Mine.md")), ("text", .string("# Mine\n")), ("create", .bool(true))], hiding: "\u{0}")
        let hash = ContentHash(of: Array((try? String(contentsOfFile: v.root + "/Memory/Mine.md", encoding: .utf8))?.utf8 ?? "".utf8)).hex
        let set = answer("set_properties", [("path", .string("Memory/Mine.md")), ("expect_hash", .string(hash)), ("set", .object([("sources", .array([.string("[[Divorce]]")]))]))], hiding: "\u{0}")
        #expect(set.hasPrefix("ERROR ") && set.contains("does not exist or is private"), "\(set)")
        // A note it may see, and a web address, may be named.
        // (Round 130: a Markdown link to a note it may see, and names with `:`, were refused.)
        for (i, value) in ["[\"[[Tapir]]\"]", "[https://example.com/Divorce.md]", "[\"[the tapir](Memory/Tapir.md)\"]",
                           "[\"doi:10.1000/182\", \"mailto:bob@example.com\"]"].enumerated() {
            let path = "Memory/fine-\(i).md"
            let wrote = answer("write_note", [("path", .string(path)), ("text", .string("---\ntype: result\nsources: \(value)\n---\nA summary.\n")), ("create", .bool(true))], hiding: "\u{0}")
            #expect(!wrote.hasPrefix("ERROR "), "\(value): \(wrote)")
            // …and it reads back: a web address made nothing private.
            #expect(!answer("read_note", [("path", .string(path))], hiding: "\u{0}").hasPrefix("ERROR "), "\(value)")
        }
    }

    /// The person (and a local agent) is not refused: a missing name is theirs to write.
    @Test func aCallerThatSeesEverythingIsRoutedForAMissingName() throws {
        let local = MCPTools(vault: v.vault, scope: MCPScope(vault: v.vault, agent: "ollama", environment: [:]))
        let reply = local.call("route", arguments: .object([("text", .string("see Nothere.md and ls \(v.root)/Memory/T*"))]))
        #expect(reply.first { $0.0 == "isError" }?.1.boolValue != true)
        let (code, out) = FourthAttackTests.cli(["route", "ls \(v.root)/Memory/T*"], v, runID: nil)
        #expect(code == 0, "\(out)")
    }

    /// Inside a cloud run, `fuckbigtech route` answers alike too.
    @Test func theInRunRouteCommandAnswersAlike() throws {
        v.write("Tasks/Own.md", "---\ntype: task\nagent: claude\nstatus: running\n---\nTidy the notes.\n")
        let run = try PrivacyTaintTests.run(of: "Tasks/Own.md", lane: "premium", in: v.vault)
        let one = FourthAttackTests.cli(["route", "see \(v.root)/Life/2020/Lov*"], v, runID: run)
        let other = FourthAttackTests.cli(["route", "see \(v.root)/Life/2020/Lxv*"], v, runID: run)
        #expect(one.code == 1 && other.code == 1 && one.out.replacingOccurrences(of: "Lov", with: "X") == other.out.replacingOccurrences(of: "Lxv", with: "X"), "\(one) | \(other)")
        let bare = FourthAttackTests.cli(["route", "look at Divorce.md today"], v, runID: run)
        let none = FourthAttackTests.cli(["route", "look at Nothere.md today"], v, runID: run)
        #expect(bare.code == 0 && bare.out.replacingOccurrences(of: "Divorce", with: "X") == none.out.replacingOccurrences(of: "Nothere", with: "X"), "\(bare) | \(none)")
        let tapir = FourthAttackTests.cli(["route", "look at Tapir.md today"], v, runID: run)
        #expect(tapir.code == 0, "\(tapir.out)")
    }

    /// Round 140 (low): `read_note` of a name that is a symlink (to a private note) answered
    /// "passes through a symlink, which the OS never follows", unlike a missing note: a name
    /// confirmed. A cloud client gets the one answer for both; a person's client still hears why.
    @Test func aSymlinkedNameIsAnsweredAsAMissingOne() throws {
        try FileManager.default.createSymbolicLink(atPath: v.root + "/Memory/Link.md", withDestinationPath: v.root + "/Life/Cancer diagnosis.md")
        try FileManager.default.createSymbolicLink(atPath: v.root + "/Linked", withDestinationPath: v.root + "/Life")
        let missing = answer("read_note", [("path", .string("Memory/Lxnk.md"))], hiding: "Lxnk")
        #expect(missing.hasPrefix("ERROR ") && missing.contains("no such note, or a private one"), "\(missing)")
        #expect(answer("read_note", [("path", .string("Memory/Link.md"))], hiding: "Link") == missing)
        #expect(answer("read_note", [("path", .string("Linked/Walks.md"))], hiding: "Linked/Walks") == answer("read_note", [("path", .string("Lxnked/Walks.md"))], hiding: "Lxnked/Walks"))
        // Round 144: write_note told it apart by a missing hint.
        func write(_ path: String, create: Bool) -> String {
            answer("write_note", [("path", .string(path)), ("text", .string("x")), ("create", .bool(create))], hiding: path)
        }
        #expect(write("Memory/Link.md", create: false) == write("Memory/Lxnk.md", create: false), "\(write("Memory/Link.md", create: false))")
        #expect(write("Memory/Link.md", create: true) == write("Life/Cancer diagnosis.md", create: true), "\(write("Memory/Link.md", create: true))")
        // Round 147: a name without `.md` answered "no such note" for a symlink (a symlinked folder
        // in a private one) and "only Markdown notes" for anything else.
        let symlinked = answer("read_note", [("path", .string("Linked"))], hiding: "Linked")
        #expect(symlinked == answer("read_note", [("path", .string("Lxnked"))], hiding: "Lxnked"), "\(symlinked)")
        #expect(symlinked == answer("read_note", [("path", .string("Memory"))], hiding: "Memory"), "\(symlinked)")
        #expect(answer("write_note", [("path", .string("Linked")), ("text", .string("x")), ("create", .bool(true))], hiding: "Linked")
                == answer("write_note", [("path", .string("Memory")), ("text", .string("x")), ("create", .bool(true))], hiding: "Memory"))
        let person = MCPTools(vault: v.vault, scope: MCPScope(vault: v.vault, agent: nil, environment: [:]))
        let told = person.call("read_note", arguments: .object([("path", .string("Memory/Link.md"))]))
        #expect("\(told)".contains("symlink"), "\(told)")
    }
}
