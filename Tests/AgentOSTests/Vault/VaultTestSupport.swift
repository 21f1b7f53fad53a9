import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// Helpers shared by the vault tests: the Obsidian Help corpus listed, the PyYAML reference reader,
/// and a seeded random generator. Kept in one namespace so that other suites' helpers in the
/// same test module cannot collide with these names.
enum VaultTestSupport {
    /// Copies the corpus into a temp folder (the shared copy must never be modified) and returns the
    /// copy's root and its `.md` files (vault-relative, sorted). Throws a clear error when it is missing.
    static func copyCorpus() throws -> (root: String, notes: [String]) {
        let source = ObsidianHelpCorpus.root
        let root = TemporaryFolder.make("fbt-corpus") + "/obsidian-help"
        try ObsidianHelpCorpus.copy(to: root)
        var notes: [String] = []
        guard let walker = FileManager.default.enumerator(atPath: root) else { throw TestSupportError("cannot list \(root)") }
        while let relative = walker.nextObject() as? String {
            if relative.hasSuffix(".md"), !relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
                notes.append(relative)
            }
        }
        notes.sort()
        guard notes.count > 1000 else { throw TestSupportError("the corpus at \(source) has only \(notes.count) notes; expected the full Obsidian Help vault") }
        return (root, notes)
    }

    /// Reads a file's bytes.
    static func bytes(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw TestSupportError("cannot read \(path)") }
        return [UInt8](data)
    }

    /// Runs the PyYAML reference reader over `paths` in one `python3` process and returns one parsed
    /// record per path. Throws a clear error when python3 or PyYAML is missing, so the test fails.
    /// `environment` replaces the process environment (to test those failures).
    static func pyYAMLRecords(for paths: [String], environment: [String: String]? = nil) throws -> [JSON] {
        let script = RepositoryPaths.fixtures + "/frontmatter_to_json.py"
        guard FileManager.default.fileExists(atPath: script) else { throw TestSupportError("missing \(script)") }
        let listFile = TemporaryFolder("fbt-pyyaml")
        let listPath = listFile.path + "/notes.txt"
        guard FileManager.default.createFile(atPath: listPath, contents: Data((paths.joined(separator: "\n") + "\n").utf8)) else {
            throw TestSupportError("cannot write \(listPath)")
        }
        let outcome: ProcessOutcome
        do { outcome = try ChildProcess.run("/usr/bin/env", ["python3", script, listPath], environment: environment, timeout: 600) } catch {
            throw TestSupportError("cannot start python3 (\(error)); the YAML agreement test needs python3 with PyYAML: install python3, then python3 -m pip install pyyaml")
        }
        let stderrText = outcome.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        if outcome.code == 127 || stderrText.contains("No such file") && stderrText.contains("python3") {
            throw TestSupportError("python3 is not installed; the YAML agreement test needs python3 with PyYAML (python3 -m pip install pyyaml)")
        }
        if outcome.code == 3 {
            throw TestSupportError("PyYAML is not installed for python3; run: python3 -m pip install pyyaml")
        }
        guard outcome.code == 0, !outcome.timedOut else {
            throw TestSupportError("the PyYAML reference reader failed (exit \(outcome.code)): \(stderrText.split(separator: "\n").last ?? "")")
        }
        let lines = outcome.stdout.split(separator: "\n", omittingEmptySubsequences: true)
        guard lines.count == paths.count else {
            throw TestSupportError("the PyYAML reference reader printed \(lines.count) records for \(paths.count) notes")
        }
        return try lines.map { try JSON.parse(String($0)) }
    }
}

/// The library's seeded SplitMix64, so that a failing fuzz case reproduces from its seed.
typealias SeededGenerator = SeededRandom
