import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// qmd as the second memory engine through the real binary: a vault with `qmd: search` and a fake
/// `qmd` on PATH (Fixtures/qmd/qmd, in qmd's `--json` shape). The packet gets qmd's hits merged with
/// ours — never a private note for a task that is not private — and `memory-test` compares the engines.
@Suite struct QMDEndToEndTests {
    @Test func packetsMergeQmdsHitsAndMemoryTestComparesTheEngines() throws {
        let sandbox = try EndToEndTests.Sandbox()
        #expect(try EndToEndTests.run(["init", sandbox.vault], in: sandbox).code == 0)
        func write(_ relative: String, _ text: String) throws {
            let path = sandbox.vault + "/" + relative
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.replacingFile(path)
        }
        try write("Memory/Server migration.md", "# Server migration\n\nThe database moved from the basement rack to the colocation facility over one weekend.\n")
        try write("Memory/Garden log.md", "# Garden log\n\nPlanted tomatoes and basil along the southern fence.\n")
        try write("Private/Diary.md", "# Diary\n\nMy database password worries me.\n")
        try write("Tasks/Migrate.md", "---\ntype: task\nstatus: draft\n---\nHow did the database get to the colocation facility?\n")
        // The fake qmd puts these first whatever the query: one only it finds, one private.
        try write(".qmd-fixture-always", "Memory/Garden log.md\nPrivate/Diary.md\n")
        let guardrails = sandbox.vault + "/Rules/Guardrails.md"
        try String(contentsOfFile: guardrails, encoding: .utf8).replacingOccurrences(of: "default_lane: local", with: "default_lane: local\nqmd: search")
            .replacingFile(guardrails)
        #expect(try EndToEndTests.run(["index", "--vault", sandbox.vault], in: sandbox).code == 0)
        let path = "/usr/bin:/bin:" + RepositoryPaths.fixtures + "/qmd"

        // Without qmd on PATH the packet has our hits only; with it, qmd's note is merged in.
        let alone = try EndToEndTests.run(["context", "--vault", sandbox.vault, "Tasks/Migrate.md"], in: sandbox)
        #expect(alone.code == 0 && alone.stdout.contains("colocation facility over one weekend") && !alone.stdout.contains("southern fence"), "\(alone.stdout)\(alone.stderr)")
        let merged = try EndToEndTests.run(["context", "--vault", sandbox.vault, "Tasks/Migrate.md"], in: sandbox, path: path)
        #expect(merged.code == 0, "\(merged.stderr)")
        #expect(merged.stdout.contains("colocation facility over one weekend") && merged.stdout.contains("southern fence"), "\(merged.stdout)")
        // qmd found the private diary too; privacy leaves it out of a task that is not private.
        #expect(!merged.stdout.contains("password worries"), "\(merged.stdout)")

        let report = try EndToEndTests.run(["memory-test", "quick", "--json", "--vault", sandbox.vault], in: sandbox, path: path)
        let json = try JSON.parse(report.stdout)
        let engines = try #require(json["checks"]?.arrayValue?.first { $0["name"]?.stringValue == "engines" }, "\(report.stdout)")
        #expect(engines["status"]?.stringValue == "ok", "\(engines)")
        let detail = engines["detail"]?.stringValue ?? ""
        #expect(detail.hasPrefix("ours hit@3 ") && detail.contains("; qmd search hit@3 ") && detail.contains("; merged hit@3 ") && (detail.hasSuffix("retrieves best") || detail.hasSuffix("retrieve equally well")), "\(detail)")

        // Without qmd on PATH the comparison says why it did not run.
        let skipped = try JSON.parse(try EndToEndTests.run(["memory-test", "quick", "--json", "--vault", sandbox.vault], in: sandbox).stdout)
        let line = skipped["checks"]?.arrayValue?.first { $0["name"]?.stringValue == "engines" }
        #expect(line?["status"]?.stringValue == "skip" && line?["detail"]?.stringValue?.contains("qmd is not on PATH") == true, "\(String(describing: line))")
    }
}
