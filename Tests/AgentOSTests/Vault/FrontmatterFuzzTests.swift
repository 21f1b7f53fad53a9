import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// Random and mutated notes fed to the parser and the editor: nothing may crash, errors must point
/// at a real place, and whatever parses must survive an edit round trip byte for byte.
///
/// The generator is seeded: a failure message names the case's seed, and `FBT_FUZZ_SEED=<n>` with
/// `FBT_FUZZ_CASES=1` replays just that case.
@Suite struct FrontmatterFuzzTests {
    /// Hand-written notes covering every construct, used as mutation seeds next to the corpus.
    static let seeds: [String] = [
        "---\ntitle: Hello\ntags:\n  - a\n  - b\n---\nBody\n",
        "---\naliases: [one, \"two, three\", 'it''s']\ncount: 3\nratio: 0.5\ndone: false\nnothing:\n---\n",
        "---\nnote: |\n  line one\n  line two\nfolded: >-\n  a\n  b\n\n  c\nkeep: |+\n  x\n\n---\n# Heading\n",
        "---\r\ntitle: \"CRLF\"\r\ntags:\r\n- x\r\n---\r\nbody\r\n",
        "\u{FEFF}---\ncreated: 2024-01-15T10:30\ndate: 2024-01-15\n---\n",
        "---\n# comment\nlink: \"[[Tasks/Fix login]]\"\nlinks:\n  - \"[[A]]\"\n  - \"[[B|b]]\"\n---\n",
        "---\nnested:\n  a: 1\n  b:\n    - x\n    - {k: v}\nflow: {x: 1, y: [2, 3]}\n---\n",
        "---\n{\"title\": \"JSON\", \"tags\": [\"a\", \"b\"], \"n\": 1.5}\n---\nbody\n",
        "---\nplain: multi\n  line\n  value\nsingle: 'multi\n  line'\ndouble: \"esc\\t\\u00e9\\\n  joined\"\n---\n",
        "---\nschlüssel: wert\n日本語: 値\nemoji: \"🙂\"\n---\nText\n",
        "---\nempty: \"\"\nnull1: ~\nnull2: null\nneg: -12\nhex: 0x1F\nexp: 1e3\ninf: .inf\n---\n",
        "No frontmatter at all.\n",
        "---\n---\nEmpty block.\n",
        "---\ntitle: x\n---",
        "",
    ]

    /// Bytes and snippets that tend to break YAML readers.
    static let tokens: [[UInt8]] = [
        "\"", "'", "[", "]", "{", "}", ":", ": ", ",", "-", "- ", "#", " #", "|", ">", "|-", ">+", "|2",
        "&a ", "*a", "!!str ", "? ", "%", "@", "`", "\\", "\\u", "\\x4", "\t", "\r", "\r\n", "\n", "  ",
        "---", "---\n", "...", "[[", "]]", "\"[[A|b]]\"", "0x", "1e", "2024-01-15", "T10:30", "null", "~",
        "true", "yes", "key: value\n", "  - item\n", "\n  ", "é", "🙂",
    ].map { Array($0.utf8) } + [[0xEF, 0xBB, 0xBF], [0xFF], [0xC3], [0x80], [0xED, 0xA0, 0x80], [0x00], [0xF4, 0x90, 0x80, 0x80]]

    @Test func randomAndMutatedNotesNeverCrashAndRoundTrip() throws {
        let environment = ProcessInfo.processInfo.environment
        let baseSeed = environment["FBT_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EED_F00D
        let cases = environment["FBT_FUZZ_CASES"].flatMap { Int($0) } ?? 20_000

        // The hand-written seeds hold every construct; weight them like the corpus sample.
        var pool = Array(repeating: FrontmatterFuzzTests.seeds.map { Array($0.utf8) }, count: 16).flatMap { $0 }
        pool += try VaultTestSupport.corpusSample(every: 8)

        var stats = (parsed: 0, rejected: 0, roundTripped: 0)
        var failures: [String] = []
        for n in 0..<cases {
            let seed = baseSeed &+ UInt64(n)
            var random = SeededGenerator(seed: seed)
            let input = FrontmatterFuzzTests.makeInput(pool: pool, random: &random)
            let outcome = FrontmatterFuzzTests.check(input, random: &random)
            switch outcome {
            case .rejected: stats.rejected += 1
            case .parsed: stats.parsed += 1
            case .roundTripped: stats.parsed += 1; stats.roundTripped += 1
            case .failed(let message):
                failures.append("seed \(seed): \(message)\n  input: \(FrontmatterFuzzTests.show(input))")
            }
            if failures.count >= 10 { break }
        }
        #expect(failures.isEmpty, "\(failures.count) fuzz failures:\n\(failures.joined(separator: "\n"))")
        if cases >= 1000 {
            // The mix must exercise both paths, or the test proves little.
            #expect(stats.parsed > cases / 5, "only \(stats.parsed) of \(cases) inputs parsed")
            #expect(stats.rejected > cases / 20, "only \(stats.rejected) of \(cases) inputs were rejected")
            #expect(stats.roundTripped > cases / 5)
        }
    }

    enum Outcome {
        case rejected, parsed, roundTripped
        case failed(String)
    }

    /// A mutated pool note (most cases) or a note built from random tokens.
    static func makeInput(pool: [[UInt8]], random: inout SeededGenerator) -> [UInt8] {
        if Int.random(in: 0..<10, using: &random) == 0 {
            var bytes = Array("---\n".utf8)
            for _ in 0..<Int.random(in: 0..<40, using: &random) {
                if Bool.random(using: &random) {
                    bytes += tokens.randomElement(using: &random)!
                } else {
                    bytes.append(UInt8(ascii: "a") + UInt8.random(in: 0..<26, using: &random))
                }
            }
            if Bool.random(using: &random) { bytes += Array("\n---\nbody\n".utf8) }
            return bytes
        }
        var bytes = pool.randomElement(using: &random)!
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            mutate(&bytes, random: &random)
        }
        return bytes
    }

    /// One random edit, mostly inside the frontmatter (the first lines), where the parser works.
    static func mutate(_ bytes: inout [UInt8], random: inout SeededGenerator) {
        let frontEnd = min(bytes.count, frontmatterEnd(bytes))
        func position(inclusiveEnd: Bool = true) -> Int {
            let limit = Bool.random(using: &random) || frontEnd == 0 ? bytes.count : frontEnd
            return Int.random(in: 0...(inclusiveEnd ? limit : max(0, limit - 1)), using: &random)
        }
        let choice = Int.random(in: 0..<12, using: &random)
        // Only line edits need the lines (splitting every input would dominate the test's time).
        var lines = (4...9).contains(choice) || choice == 11
            ? bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
            : []
        let frontLines = max(1, bytes[..<frontEnd].filter { $0 == 0x0A }.count + 1)
        func lineIndex() -> Int { Int.random(in: 0..<max(1, min(lines.count, frontLines + 1)), using: &random) }
        switch choice {
        case 0 where !bytes.isEmpty:
            bytes.remove(at: min(bytes.count - 1, position(inclusiveEnd: false)))
        case 1:
            bytes.insert(contentsOf: tokens.randomElement(using: &random)!, at: position())
        case 2 where !bytes.isEmpty:
            let at = min(bytes.count - 1, position(inclusiveEnd: false))
            bytes.insert(bytes[at], at: at)
        case 3 where !bytes.isEmpty:
            bytes[min(bytes.count - 1, position(inclusiveEnd: false))] = UInt8.random(in: 0...255, using: &random)
        case 4:
            let i = lineIndex()
            lines.insert(lines[i], at: i)
            bytes = join(lines)
        case 5 where lines.count > 1:
            lines.remove(at: lineIndex())
            bytes = join(lines)
        case 6 where lines.count > 2:
            let i = lineIndex(), j = lineIndex()
            lines.swapAt(i, j)
            bytes = join(lines)
        case 7:
            let i = lineIndex()
            lines[i] = Array(repeating: 0x20, count: Int.random(in: 1...4, using: &random)) + lines[i]
            bytes = join(lines)
        case 8:
            let i = lineIndex()
            lines[i] = Array(lines[i].drop { $0 == 0x20 })
            bytes = join(lines)
        case 9:
            let i = lineIndex()
            lines[i] = [0x09] + lines[i]
            bytes = join(lines)
        case 10 where !bytes.isEmpty:
            bytes.removeSubrange(position(inclusiveEnd: false)...)
        default:
            // Turn LF into CRLF (or back) on one line, or add a BOM.
            if Bool.random(using: &random) {
                if lines.isEmpty { lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init) }
                let i = lineIndex()
                if lines[i].last == 0x0D { lines[i].removeLast() } else { lines[i].append(0x0D) }
                bytes = join(lines)
            } else {
                bytes = [0xEF, 0xBB, 0xBF] + bytes
            }
        }
    }

    static func join(_ lines: [[UInt8]]) -> [UInt8] {
        Array(lines.joined(separator: [0x0A]))
    }

    /// Rough end of the frontmatter (after the second `---`), or a few hundred bytes.
    static func frontmatterEnd(_ bytes: [UInt8]) -> Int {
        var dashes = 0
        var i = 0
        while i + 2 < bytes.count {
            if bytes[i] == 0x2D, bytes[i + 1] == 0x2D, bytes[i + 2] == 0x2D, i == 0 || bytes[i - 1] == 0x0A {
                dashes += 1
                if dashes == 2 { return i + 3 }
            }
            i += 1
        }
        return min(bytes.count, 400)
    }

    /// Parses, then checks the editor on the input.
    static func check(_ input: [UInt8], random: inout SeededGenerator) -> Outcome {
        let lineCount = input.filter { $0 == 0x0A }.count + 1
        let note: Note
        do {
            note = try Note.parse(bytes: input)
        } catch {
            if error.line < 1 || error.line > lineCount || error.column < 1 {
                return .failed("error position \(error.line):\(error.column) outside the \(lineCount)-line input: \(error)")
            }
            do {
                _ = try FrontmatterEditor.apply(set: [Property("fbt_fuzz", .string("x"))], to: input)
                return .failed("parse throws (\(error)) but the editor accepts the note")
            } catch {
                return .rejected
            }
        }

        let probe = Property("fbt_fuzz", .string("probe value"))
        let added: [UInt8]
        do { added = try FrontmatterEditor.apply(set: [probe], to: input) } catch {
            return .failed("the note parses but the editor throws: \(error)")
        }
        let withProbe: Note
        do { withProbe = try Note.parse(bytes: added) } catch {
            return .failed("adding a property made the note unreadable: \(error)\n  edited: \(show(added))")
        }
        if withProbe["fbt_fuzz"] != probe.value { return .failed("the added property reads back as \(String(describing: withProbe["fbt_fuzz"]))") }
        for property in note.properties where property.key != "fbt_fuzz" && withProbe[property.key] != note[property.key] {
            return .failed("adding a property changed '\(property.key)' from \(String(describing: note[property.key])) to \(String(describing: withProbe[property.key]))\n  edited: \(show(added))")
        }
        if withProbe.body != note.body { return .failed("adding a property changed the body") }

        // Writing an existing property back with its own value must keep it (and the rest) intact.
        if let existing = note.properties.randomElement(using: &random), existing.key != "fbt_fuzz", let value = note[existing.key] {
            do {
                let rewritten = try FrontmatterEditor.apply(set: [Property(existing.key, value)], to: input)
                let reread = try Note.parse(bytes: rewritten)
                if reread[existing.key] != value {
                    return .failed("writing '\(existing.key)' back gives \(String(describing: reread[existing.key])) instead of \(value)\n  edited: \(show(rewritten))")
                }
                for other in note.properties where reread[other.key] != note[other.key] {
                    return .failed("writing '\(existing.key)' back changed '\(other.key)'\n  edited: \(show(rewritten))")
                }
            } catch {
                return .failed("writing '\(existing.key)' back failed: \(error)")
            }
        }

        // Removing an existing property must keep the note readable and every other property intact.
        if let existing = note.properties.randomElement(using: &random) {
            do {
                let removed = try FrontmatterEditor.apply(set: [], unset: [existing.key], to: input)
                let reread = try Note.parse(bytes: removed)
                if reread[existing.key] != nil { return .failed("unset '\(existing.key)' left it in place\n  edited: \(show(removed))") }
                for other in note.properties where other.key != existing.key && reread[other.key] != note[other.key] {
                    return .failed("unset '\(existing.key)' changed '\(other.key)'\n  edited: \(show(removed))")
                }
                if reread.body != note.body { return .failed("unset '\(existing.key)' changed the body") }
            } catch {
                return .failed("unset '\(existing.key)' failed: \(error)")
            }
        }

        // An empty `---`/`---` block is dropped with the last property (as in Obsidian), so it cannot
        // come back; every other note must.
        if note.hasFrontmatter && isEmptyBlock(input) { return .parsed }
        if note["fbt_fuzz"] != nil { return .parsed }
        do {
            let removed = try FrontmatterEditor.apply(set: [], unset: ["fbt_fuzz"], to: added)
            if removed != input { return .failed("set + unset changed the note\n  after: \(show(removed))") }
        } catch {
            return .failed("unset failed: \(error)")
        }
        return .roundTripped
    }

    /// Whether the note's frontmatter block has no lines at all.
    static func isEmptyBlock(_ bytes: [UInt8]) -> Bool {
        guard let layout = try? NoteLayout.scan(bytes) else { return false }
        return layout.hasFrontmatter && layout.innerLines.isEmpty
    }

    /// The input as a Swift-escaped string, for reproducing a failure by hand.
    static func show(_ bytes: [UInt8]) -> String {
        var out = "\""
        for scalar in String(decoding: bytes.prefix(600), as: UTF8.self).unicodeScalars {
            out += scalar.escaped(asASCII: false)
        }
        return out + (bytes.count > 600 ? "…\"" : "\"") + (String(validating: bytes, as: UTF8.self) == nil ? " (invalid UTF-8)" : "")
    }
}

extension VaultTestSupport {
    /// Every `stride`-th corpus note with frontmatter (read in place, never written); throws when the
    /// corpus is missing, so the fuzzers never quietly run on the hand-written seeds alone.
    static func corpusSample(every stride: Int) throws -> [[UInt8]] {
        let root = ObsidianHelpCorpus.root
        guard let walker = FileManager.default.enumerator(atPath: root) else { throw TestSupportError("the Obsidian Help corpus is missing at \(root); set FBT_CORPUS") }
        var paths: [String] = []
        while let relative = walker.nextObject() as? String {
            if relative.hasSuffix(".md") { paths.append(relative) }
        }
        paths.sort()
        var sample: [[UInt8]] = []
        for (i, path) in paths.enumerated() where i % stride == 0 {
            let bytes = try VaultTestSupport.bytes(root + "/" + path)
            if bytes.starts(with: Array("---".utf8)) { sample.append(Array(bytes.prefix(2000))) }
        }
        guard !sample.isEmpty else { throw TestSupportError("no corpus note at \(root) has frontmatter") }
        return sample
    }
}
