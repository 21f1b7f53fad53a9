import Foundation
import Testing
@testable import AgentOS

/// The privacy property, over random vaults: for every packet routing would send to an agent off
/// this machine, no private text is in it — whichever of the documented ways made the text private,
/// and however it is linked (wikilinks, embeds, display text, frontmatter aliases, names and paths in
/// another case, heading and block links, Markdown links,
/// `context` lists, daily-log lines, results and handoffs of private runs, retrieval by shared
/// rare words). And a task that links a private note never runs off this machine at all.
///
/// 25 seeded vaults × 100 work notes = 2,500 cases (about 20 s of CPU in a debug build); a failure
/// names its seed and note.
@Suite struct PrivacyPropertyTests {
    static let vaultCount = 25
    static let casesPerVault = 100
    /// Every private text holds a marker starting with this; no public text ever does.
    static let markerPrefix = "PMK"

    /// One generated vault: what is private, and the work notes to plan.
    struct Generated {
        var cases: [(path: String, linksPrivate: Bool)] = []
    }

    @Test func noPrivateMarkerReachesANonLocalPacket() throws {
        var total = 0
        var premium = 0
        var heldBack = 0
        for seed in 0..<Self.vaultCount {
            let v = RouteTestVault(rules: false)
            var random = SeededGenerator(seed: UInt64(seed) &* 0x9E37_79B9 &+ 17)
            let generated = try Self.generate(v, seed: seed, random: &random)
            let index = try MemoryIndex(vault: v.vault)
            _ = try index.reconcile()
            let routing = try VaultRouting(vault: v.vault)
            let store = NoteStore(vault: v.vault)
            for (path, linksPrivate) in generated.cases {
                let snapshot = try store.read(path)
                let note = try Note.parse(bytes: snapshot.bytes)
                let task = TaskNote(path: path, snapshot: snapshot, note: note, kind: TaskNote.kind(of: note, path: path) ?? .task)
                let plan = routing.plan(task, runID: RunStore.newRunID())
                routing.settle(plan, cost: nil)
                total += 1
                let offMachine = plan.action == .run && !(Lane(note: plan.lane)?.keepsWorkLocal ?? false)
                if offMachine {
                    premium += 1
                    if let range = plan.prompt.range(of: Self.markerPrefix) {
                        let leaked = plan.prompt[range.lowerBound...].prefix(24)
                        Issue.record("seed \(seed), \(path): private text '\(leaked)…' in a \(plan.lane) packet")
                    }
                    #expect(!linksPrivate, "seed \(seed), \(path) links a private note but runs on \(plan.lane)")
                } else {
                    heldBack += 1
                }
            }
        }
        #expect(total == Self.vaultCount * Self.casesPerVault)
        // Not vacuous: many packets do go to the premium lane (and so were checked), many are held back.
        #expect(premium > total / 4, "only \(premium) of \(total) packets went off the machine")
        #expect(heldBack > total / 10)
    }

    // MARK: Generator

    static let syllables = ["zan", "quor", "vel", "mith", "oxa", "triv", "bel", "dunk", "sarp", "ylo", "grem", "fosh"]

    static func word(_ random: inout SeededGenerator) -> String {
        (0..<4).map { _ in syllables[random.below(syllables.count)] }.joined()
    }

    static func pick<T>(_ items: [T], _ random: inout SeededGenerator) -> T { items[random.below(items.count)] }

    /// A link to `path` written one of the ways notes link: returns the text and whether it goes in
    /// the `context` property rather than the body. `aliases` holds the frontmatter alias of some notes.
    static func link(to path: String, from source: String, aliases: [String: String], _ random: inout SeededGenerator) -> (String, inContext: Bool) {
        let stem = String(path.dropLast(3))
        let name = String(stem.split(separator: "/").last!)
        // Which spelling (case, alias) is picked from the paths, not drawn from `random`, so the
        // vaults generated stay those of earlier versions of this test.
        let spelling = (path + source).unicodeScalars.reduce(UInt32(2_166_136_261)) { ($0 ^ $1.value) &* 16_777_619 } % 4
        switch random.below(10) {
        // Obsidian ignores case in names and paths.
        case 0: return (spelling == 0 ? "[[\(stem.uppercased())]]" : "[[\(stem)]]", false)
        case 1: return (spelling == 0 ? "[[\(name.lowercased())#Part two]]" : "[[\(name)]]", false)
        case 2: return ("![[\(name)]]", false)
        case 3: return ("[[\(stem)|see this]]", false)
        case 4: return ("[[\(name)#Part two]]", false)
        case 5: return ("[[\(stem)#^b1|block]]", false)
        case 6: return ("[the note](\(path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path))", false)
        case 7:
            let depth = source.split(separator: "/").count - 1
            let up = String(repeating: "../", count: depth)
            return ("[rel](<\(up)\(path)>)", false)
        case 8:
            // A frontmatter alias, any case, with or without an anchor.
            if let alias = aliases[path], spelling < 2 { return (spelling == 0 ? "[[\(alias)]]" : "[[\(alias.uppercased())#Part two|shown]]", true) }
            return ("[[\(stem)]]", true)
        default:
            if let alias = aliases[path], spelling < 2 { return ("[[\(alias)|alias]]", spelling == 0) }
            return ("[[\(name)|alias]]", true)
        }
    }

    static func generate(_ v: RouteTestVault, seed: Int, random: inout SeededGenerator) throws -> Generated {
        v.write("Rules/Agents/claude.md", "---\ntype: agent\nname: claude\nlane: premium\ncommand: [\"claude\", \"-p\", \"{prompt}\"]\noutput: claude-json\nmax_cost_usd: 0\n---\n")
        v.write("Rules/Agents/ollama.md", "---\ntype: agent\nname: ollama\nlane: local\nendpoint: http://localhost:11434\noutput: ollama\nmodel: llama3.2\n---\n")
        v.write("Rules/Routing/Never.md", "---\ntype: rule\npriority: 10\nwhen_keywords: [qqqneverqqq]\nlane: local\n---\n")
        v.write("Rules/Guardrails.md", "---\ntype: guardrails\nbudget_task_usd: 1000000\nbudget_day_usd: 1000000\nbudget_month_usd: 1000000\nbudget_premium_day_usd: 1000000\nbudget_premium_month_usd: 1000000\nprivate_tags: [secret, personal]\nprivate_folders: [Journal]\ndefault_lane: premium\ndefault_agent: claude\n---\n")

        let topics = (0..<10).map { _ in word(&random) }
        func topicText(_ n: Int) -> String { (0..<n).map { _ in pick(topics, &random) }.joined(separator: " ") }
        var markerCount = 0
        func marker() -> String {
            markerCount += 1
            return "\(markerPrefix)\(seed)x\(markerCount)"
        }

        var privateNotes: [String] = []
        var aliases: [String: String] = [:]
        var privateTasks: [String] = []
        var publicNotes: [String] = []
        let store = NoteStore(vault: v.vault)

        func privateTask() -> String {
            let m = marker()
            let path = "Tasks/Secret \(m).md"
            v.write(path, "---\ntype: task\nprivacy: private\nstatus: done\n---\nMy \(m) \(topicText(3)).\n")
            privateTasks.append(path)
            privateNotes.append(path)
            return path
        }

        // Private notes, each way of being private at least once per vault.
        let kinds = 16
        for i in 0..<(kinds + random.below(8)) {
            let m = marker()
            let body = "\(topicText(2)) \(m) \(topicText(2))\n\n## Part two\n\nMore \(m).\n"
            let n = "P\(i) \(word(&random))"
            switch i < kinds ? i : random.below(kinds) {
            case 0:
                v.write("Notes/\(n).md", "---\nprivacy: private\naliases: [\"aka \(n)\"]\n---\n" + body)
                aliases["Notes/\(n).md"] = "aka \(n)"
            case 1: v.write("Notes/\(n).md", "---\nprivacy: Secret\n---\n" + body)
            case 2: v.write("Notes/\(n).md", "---\nprivate: true\n---\n" + body)
            case 3:
                v.write("Notes/\(n).md", "---\ntags: [work, secret]\naliases: [\"aka \(n)\"]\n---\n" + body)
                aliases["Notes/\(n).md"] = "aka \(n)"
            case 4: v.write("Notes/\(n).md", "---\ntags: [personal/deep]\n---\n" + body)
            case 5: v.write("Notes/\(n).md", "---\ntag: Private\n---\n" + body)
            case 6: v.write("Notes/\(n).md", body + "\nfiled #private\n")
            case 7: v.write("Notes/\(n).md", "#Personal/health " + body)
            case 8: v.write("Private/\(n).md", body)
            case 9: v.write(pick(["journal", "JOURNAL", "Journal"], &random) + "/\(n).md", body)
            case 10: _ = privateTask(); continue
            case 11:
                let task = privateTask()
                v.write("Results/\(TaskNote.title(of: task)) r\(i).md", "---\ntype: result\nprivacy: private\ntask: \"\(TelemetryWriter.link(task))\"\nsources: []\n---\n# \(TaskNote.title(of: task))\n\n" + body)
                privateNotes.append("Results/\(TaskNote.title(of: task)) r\(i).md")
                continue
            case 12:
                let task = privateTask()
                v.write("Results/\(n).md", "---\ntype: result\ntask: \"[[\(TaskNote.title(of: task))]]\"\n---\n" + body)
            case 13: v.write("Results/\(n).md", "---\ntype: result\ntask: \"[[Notes/none]]\"\nsources: [\"[[Private/gone]]\"]\n---\n" + body)
            case 14:
                let task = privateTask()
                let path = try Handoffs.create(vault: v.vault, from: "ollama", to: "ollama", taskPath: task, message: body, context: [])
                privateNotes.append(path)
                continue
            default:
                let task = privateTask()
                v.write("Handoffs/\(n).md", "---\ntype: handoff\nfrom: a\nto: b\ntask: \"\(TelemetryWriter.link(task))\"\nstatus: done\n---\n" + body)
                privateNotes.append("Handoffs/\(n).md")
                continue
            }
            if let found = try FileManager.default.subpathsOfDirectory(atPath: v.root).first(where: { $0.hasSuffix("/\(n).md") }) {
                privateNotes.append(found)
            } else {
                Issue.record("generator lost \(n)")
            }
        }

        // Public notes, some linking private ones (two hops away from a task: their text is public).
        for i in 0..<10 {
            let path = "Notes/Pub\(i) \(word(&random)).md"
            var body = "\(topicText(4))\n"
            if random.chance(40) {
                let target = pick(privateNotes.filter { !$0.hasPrefix("Tasks/") && !$0.hasPrefix("Results/") && !$0.hasPrefix("Handoffs/") }, &random)
                body += "Related: [[\(target.dropLast(3))]]\n"
            }
            if i % 2 == 0 {
                v.write(path, "---\naliases: [\"aka pub \(i)\"]\n---\n" + body)
                aliases[path] = "aka pub \(i)"
            } else {
                v.write(path, body)
            }
            publicNotes.append(path)
        }

        // Daily notes: private as a whole or not; private lines, public lines, OS-written run lines.
        let now = Date()
        for day in [now, now.addingTimeInterval(-86_400)] {
            let path = TelemetryWriter.dailyPath(day)
            let wholePrivate = random.chance(30)
            let header = wholePrivate ? pick(["privacy: private", "tags: [private]", "private: true", "tags: [secret/x]"], &random) : "type: daily"
            var lines: [String] = []
            for _ in 0..<(6 + random.below(10)) {
                let m = marker()
                switch random.below(7) {
                case 0, 1: lines.append("- 08:\(random.below(50) + 10) public \(topicText(2))")
                case 2: lines.append("- 09:00 \(m) \(pick(["#private", "#secret", "#personal/x", "#Private/Deep"], &random))")
                case 3:
                    let target = pick(privateNotes, &random)
                    let (text, _) = link(to: target, from: path, aliases: aliases, &random)
                    lines.append("- 09:10 \(m) about \(text)")
                case 4:
                    // A run of private work, written by the OS: its title holds a marker.
                    let task = pick(privateTasks, &random)
                    let record = TelemetryRecord(time: day, runID: "run\(random.below(1_000_000))", taskPath: task, agent: "ollama", model: nil, lane: "local", rule: nil, reason: nil, costUSD: nil, tokensIn: nil, tokensOut: nil, durationSeconds: 1, outcome: "done", resultPath: nil, error: nil)
                    try TelemetryWriter(store: store).appendToNotes([record])
                default:
                    lines.append("- 10:00 \(wholePrivate ? m : "public") \(topicText(1))")
                }
            }
            let existing = (try? store.readIfPresent(path))??.text
            let body = (existing.flatMap { try? Note.parse($0) }?.body ?? "") + lines.joined(separator: "\n") + "\n"
            v.write(path, "---\n\(header)\n---\n" + body)
        }

        // The OS's public telemetry note is linkable too: it must name no private run.
        if (try? store.readIfPresent(TelemetryWriter.notePath(now))) ?? nil != nil { publicNotes.append(TelemetryWriter.notePath(now)) }

        // The work notes: public tasks (some naming claude) and handoffs to claude, linking notes at random.
        var generated = Generated()
        let linkable = privateNotes + publicNotes
        for i in 0..<casesPerVault {
            let isHandoff = random.chance(15)
            let path = isHandoff ? "Handoffs/H\(i).md" : "Tasks/Q\(i).md"
            var body = "Please work on \(topicText(3)).\n"
            var context: [String] = []
            var linksPrivate = false
            for _ in 0..<pick([0, 0, 1, 1, 2, 3], &random) {
                let target = pick(linkable, &random)
                let (text, inContext) = link(to: target, from: path, aliases: aliases, &random)
                if inContext { context.append(text) } else { body += "See \(text).\n" }
                if privateNotes.contains(target) { linksPrivate = true }
            }
            var properties = isHandoff ? "type: handoff\nfrom: me\nto: claude\n" : "type: task\n"
            if !isHandoff && random.chance(50) { properties += "agent: claude\n" }
            if isHandoff && random.chance(50) {
                // The task a handoff continues: private, or an earlier public one that links nothing
                // private (a public note's own text is public, whatever it names).
                let cleanTasks = generated.cases.filter { !$0.linksPrivate && $0.path.hasPrefix("Tasks/") }.map(\.path)
                let target = pick(privateTasks + cleanTasks, &random)
                properties += "task: \"\(TelemetryWriter.link(target))\"\n"
                if privateTasks.contains(target) { linksPrivate = true }
            }
            if !context.isEmpty {
                properties += "context: [" + context.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\\\"") + "\"" }.joined(separator: ", ") + "]\n"
            }
            v.write(path, "---\n\(properties)---\n\(body)")
            generated.cases.append((path, linksPrivate))
        }
        return generated
    }
}
