import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// Mutated notes read by us and by PyYAML: where both read a note, they must read the same values
/// (up to the YAML 1.1 / 1.2 differences in `YAMLReference`), and both must agree on whether a note
/// has frontmatter at all.
///
/// Not asserted, by design: notes we refuse and PyYAML reads (features we do not support, such as
/// aliases and complex keys, or YAML PyYAML is lenient about, such as quoted text continuing at
/// column 1), and notes we read and PyYAML refuses (we are lenient about control characters, tabs
/// after `-`, and `: ` inside a plain value such as `title: Re: hello`).
///
/// `FBT_DIFF_SEED`, `FBT_DIFF_CASES` and `FBT_DIFF_VERBOSE=1` help when hunting a disagreement.
@Suite struct DifferentialTests {
    @Test func mutatedNotesAgreeWithPyYAML() throws {
        let environment = ProcessInfo.processInfo.environment
        let baseSeed = environment["FBT_DIFF_SEED"].flatMap { UInt64($0) } ?? 0xD1FF
        let cases = environment["FBT_DIFF_CASES"].flatMap { Int($0) } ?? 3000
        // The hand-written seeds hold every construct; weight them like the corpus sample.
        var pool = Array(repeating: FrontmatterFuzzTests.seeds.map { Array($0.utf8) }, count: 16).flatMap { $0 }
        pool += try VaultTestSupport.corpusSample(every: 8)

        let folder = TemporaryFolder.make("fbt-diff")
        defer { TemporaryFolder.remove(folder) }
        var inputs: [[UInt8]] = []
        var paths: [String] = []
        for n in 0..<cases {
            var random = SeededGenerator(seed: baseSeed &+ UInt64(n))
            let input = FrontmatterFuzzTests.makeInput(pool: pool, random: &random)
            let path = folder + "/\(n).md"
            guard FileManager.default.createFile(atPath: path, contents: Data(input)) else {
                throw TestSupportError("cannot write \(path)")
            }
            inputs.append(input)
            paths.append(path)
        }
        let records = try VaultTestSupport.pyYAMLRecords(for: paths)
        var counts: [String: Int] = [:]
        var problems: [String] = []
        for (n, (input, record)) in zip(inputs, records).enumerated() {
            let kind = record["kind"]?.stringValue ?? "?"
            let note: Note
            do { note = try Note.parse(bytes: input) } catch {
                counts["we reject, PyYAML \(kind)", default: 0] += 1
                // A lone CR in what may be frontmatter is refused on purpose (fail closed: YAML reads
                // it as a line break, and properties behind it must not be missed), where PyYAML's
                // reader, cutting lines at LF as ours did, sees none.
                if kind == "none", !DifferentialTests.hasLoneCarriageReturn(input) { problems.append("case \(n): we reject (\(error)) a note PyYAML's reader sees no frontmatter in\n  input: \(FrontmatterFuzzTests.show(input))") }
                if environment["FBT_DIFF_VERBOSE"] != nil, kind == "value" {
                    print("REJECT case \(n): \(error)\n  input: \(FrontmatterFuzzTests.show(input))\n  pyyaml: \(record.compact.prefix(300))")
                }
                continue
            }
            counts["we read, PyYAML \(kind)", default: 0] += 1
            if kind == "error", environment["FBT_DIFF_VERBOSE"] != nil {
                print("LENIENT case \(n): \(record["message"]?.stringValue ?? "")\n  input: \(FrontmatterFuzzTests.show(input))")
            }
            if kind == "none" && note.hasFrontmatter || kind != "none" && !note.hasFrontmatter {
                problems.append("case \(n): PyYAML's reader says \(kind), we say hasFrontmatter \(note.hasFrontmatter)\n  input: \(FrontmatterFuzzTests.show(input))")
            }
            guard kind == "value", let value = record["value"] else { continue }
            // A lone CR is a line break to YAML; ours refuses one in frontmatter (docs/notes.md).
            if DifferentialTests.hasLoneCarriageReturn(input) { counts["skipped: lone CR", default: 0] += 1; continue }
            if case .object(let tag) = value, tag.first?.0 == "$map" {
                if let problem = YAMLReference.disagreement(properties: note.properties, reference: value) {
                    problems.append("case \(n) (seed \(baseSeed &+ UInt64(n))): \(problem)\n  input: \(FrontmatterFuzzTests.show(input))")
                }
            } else if !note.properties.isEmpty {
                problems.append("case \(n): PyYAML reads \(value.compact.prefix(80)), not a map, we read properties\n  input: \(FrontmatterFuzzTests.show(input))")
            }
        }
        if cases >= 100 {
            #expect((counts["we read, PyYAML value"] ?? 0) > cases / 4, "too few notes were compared: \(counts)")
        }
        #expect(problems.isEmpty, "\(problems.count) disagreements:\n\(problems.prefix(15).joined(separator: "\n"))")
    }

    /// Whether the note has a CR that is not part of a CRLF.
    static func hasLoneCarriageReturn(_ bytes: [UInt8]) -> Bool {
        for i in bytes.indices where bytes[i] == 0x0D && (i + 1 == bytes.count || bytes[i + 1] != 0x0A) { return true }
        return false
    }
}
