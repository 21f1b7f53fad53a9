import Foundation
@testable import AgentOS

extension MCPTools {
    /// `set_properties` on `path` with `arguments` and the hash of the note as it is now (what
    /// `read_note` returns): a refusal is then the guardrail's, not the missing hash's.
    func setProperties(_ path: String, _ arguments: [(String, JSON)]) -> [(String, JSON)] {
        let hash = ((try? NoteStore(vault: vault).readIfPresent(path)) ?? nil)?.hash.hex ?? "0000000000000000"
        return call("set_properties", arguments: .object([("path", .string(path))] + arguments + [("expect_hash", .string(hash))]))
    }
}

/// `--expect HASH` with the hash of the note at `path` under `root` as it is now (what `note show
/// --json` prints): from within a run, `note set` takes it.
func expectingCurrent(_ root: String, _ path: String) -> [String] {
    let bytes = FileManager.default.contents(atPath: root + "/" + path).map { [UInt8]($0) } ?? []
    return ["--expect", ContentHash(of: bytes).hex]
}
