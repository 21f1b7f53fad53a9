import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// The parser and editor against a real Obsidian vault (the Obsidian Help docs, 2,300 notes in many
/// languages), copied to a temp folder so the shared copy is never touched.
@Suite struct CorpusTests {
    /// Every note parses; a note that does not must have an error pointing inside its frontmatter.
    /// Adding a property and removing it again gives back the note byte for byte, and writing an
    /// existing property back with its own value keeps the note readable with the same value.
    @Test func everyNoteParsesAndRoundTrips() throws {
        let corpus = try VaultTestSupport.copyCorpus()
        defer { TemporaryFolder.remove(corpus.root) }
        var invalid: [String] = []
        var withFrontmatter = 0
        var rewrittenProperties = 0
        for relative in corpus.notes {
            let bytes = try VaultTestSupport.bytes(corpus.root + "/" + relative)
            let note: Note
            do {
                note = try Note.parse(bytes: bytes)
            } catch {
                invalid.append("\(relative): \(error)")
                let lineCount = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).count
                #expect(error.line >= 1 && error.line <= lineCount, "\(relative): error line \(error.line) is outside the file")
                #expect(error.column >= 1, "\(relative): error column \(error.column)")
                #expect(throws: FrontmatterError.self) { try FrontmatterEditor.apply(set: [Property("fbt_probe", .int(1))], to: bytes) }
                continue
            }
            if note.hasFrontmatter { withFrontmatter += 1 }

            let added = try FrontmatterEditor.apply(set: [Property("fbt_probe", .int(1))], to: bytes)
            let withProbe = try Note.parse(bytes: added)
            #expect(withProbe["fbt_probe"] == .int(1), "\(relative): the added property reads back as \(String(describing: withProbe["fbt_probe"]))")
            #expect(withProbe.properties.dropLast() == note.properties[...], "\(relative): adding a property changed the others")
            #expect(withProbe.body == note.body, "\(relative): adding a property changed the body")
            let removed = try FrontmatterEditor.apply(set: [], unset: ["fbt_probe"], to: added)
            #expect(removed == bytes, "\(relative): set + unset of a new property changed the note")

            for key in Set(note.properties.map(\.key)) {
                let value = note[key]!
                let rewritten = try FrontmatterEditor.apply(set: [Property(key, value)], to: bytes)
                let reread: Note
                do { reread = try Note.parse(bytes: rewritten) } catch {
                    Issue.record("\(relative): writing '\(key)' back made the note unreadable: \(error)")
                    continue
                }
                #expect(reread[key] == value, "\(relative): '\(key)' was \(value), reads back as \(String(describing: reread[key]))")
                #expect(reread.body == note.body, "\(relative): rewriting '\(key)' changed the body")
                for other in note.properties where other.key != key {
                    #expect(reread[other.key] == note[other.key], "\(relative): rewriting '\(key)' changed '\(other.key)'")
                }
                rewrittenProperties += 1

                // Removing it keeps the rest of the note as it was.
                let removed = try Note.parse(bytes: try FrontmatterEditor.apply(set: [], unset: [key], to: bytes))
                #expect(removed[key] == nil && removed.body == note.body, "\(relative): unset '\(key)'")
                #expect(removed.properties == note.properties.filter { $0.key != key }, "\(relative): unset '\(key)' changed other properties")
            }
        }
        // The Obsidian Help vault has valid frontmatter throughout; list any note that is not.
        #expect(invalid.isEmpty, "notes with invalid frontmatter:\n\(invalid.joined(separator: "\n"))")
        #expect(withFrontmatter > 1500, "only \(withFrontmatter) notes had frontmatter")
        #expect(rewrittenProperties > 5000)
    }

    /// Without python3 or PyYAML the agreement tests fail with a message saying what to install,
    /// rather than passing without having compared anything.
    @Test func missingPythonOrPyYAMLFailsClearly() throws {
        let folder = TemporaryFolder.make("fbt-nopyyaml")
        defer { TemporaryFolder.remove(folder) }
        let note = folder + "/n.md"
        try Data("---\na: 1\n---\n".utf8).write(to: URL(fileURLWithPath: note))
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = folder + "/no-such-bin"
        #expect { _ = try VaultTestSupport.pyYAMLRecords(for: [note], environment: environment) } throws: { error in
            "\(error)".contains("python3 is not installed")
        }
        // A `yaml` module that fails to import stands in for a missing PyYAML.
        try Data("raise ImportError('simulated: no PyYAML')\n".utf8).write(to: URL(fileURLWithPath: folder + "/yaml.py"))
        environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = folder
        #expect { _ = try VaultTestSupport.pyYAMLRecords(for: [note], environment: environment) } throws: { error in
            "\(error)".contains("pip install pyyaml")
        }
        // And with both present, the reader works.
        let records = try VaultTestSupport.pyYAMLRecords(for: [note])
        #expect(records.first?["kind"]?.stringValue == "value")
    }

    /// What we read from each note's frontmatter is what PyYAML reads, up to the documented
    /// YAML 1.1 / 1.2 differences; a note we reject must be one PyYAML rejects too.
    @Test func valuesAgreeWithPyYAML() throws {
        let corpus = try VaultTestSupport.copyCorpus()
        defer { TemporaryFolder.remove(corpus.root) }
        let records = try VaultTestSupport.pyYAMLRecords(for: corpus.notes.map { corpus.root + "/" + $0 })
        var compared = 0
        for (relative, record) in zip(corpus.notes, records) {
            let bytes = try VaultTestSupport.bytes(corpus.root + "/" + relative)
            let kind = record["kind"]?.stringValue ?? "?"
            do {
                let note = try Note.parse(bytes: bytes)
                switch kind {
                case "none":
                    #expect(!note.hasFrontmatter, "\(relative): we found frontmatter, PyYAML's reader did not")
                case "value":
                    #expect(note.hasFrontmatter, "\(relative): PyYAML's reader found frontmatter, we did not")
                    if let problem = YAMLReference.disagreement(properties: note.properties, reference: record["value"] ?? .null) {
                        Issue.record("\(relative): \(problem)")
                    }
                    compared += 1
                default:
                    Issue.record("\(relative): we parsed it, PyYAML reports \(record.compact)")
                }
            } catch {
                #expect(kind == "error" || kind == "unclosed", "\(relative): we fail with \(error), PyYAML reads it (\(kind))")
            }
        }
        #expect(compared > 1500, "only \(compared) notes were compared")
    }
}
