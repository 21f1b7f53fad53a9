import Foundation

/// Notes in a work folder that cannot run as they stand: binary files are reported and left
/// byte-identical; a note whose frontmatter does not parse gets `status: failed` and the error,
/// written into its own bytes, once per content.
extension TaskEngine {
    /// Whether bytes can be a note: valid UTF-8 without NUL bytes (a PNG, a PDF or other binary data
    /// named `.md` is not one, and the OS must not write frontmatter into it).
    static func isText(_ bytes: [UInt8]) -> Bool {
        if bytes.contains(0) { return false }
        return String(validating: bytes, as: UTF8.self) != nil
    }

    /// Reports a binary file where a note was expected, once per content, and leaves it byte-identical.
    func leaveBinary(path: String, snapshot: NoteSnapshot) -> Consideration {
        let message = "not a text note (binary data or invalid UTF-8); it is left exactly as it is"
        guard TaskNote.isInWorkFolder(path) else { return .ignored }
        if (try? runs.wasRejected(taskPath: path, hash: snapshot.hash)) != true {
            log(EngineEvent(level: .error, message: "\(path): \(message)"))
            try? runs.recordRejection(taskPath: path, hash: snapshot.hash, error: message)
        }
        return .rejected(message)
    }

    /// Whether a failed note is one the OS failed for its frontmatter, now fixed: its `error` is the
    /// one the OS wrote when it rejected the note, and it has never been run since.
    func isFixedAfterRejection(_ task: TaskNote) -> Bool {
        guard task.note.text("run_id") == nil, let written = task.note.text("error"), written.hasPrefix("frontmatter line "),
              let rejected = (try? runs.rejectionError(taskPath: task.path)) ?? nil else { return false }
        return written == rejected
    }

    func reject(path: String, snapshot: NoteSnapshot, error: Any, keepStatus: Bool = false) -> Consideration {
        var message = String(describing: error)
        if let parse = error as? FrontmatterError {
            message = TaskEngine.describe(parse, in: snapshot.bytes, shiftedBy: TaskEngine.errorLinesInsertedAtTop(snapshot.bytes))
        }
        if (try? runs.wasRejected(taskPath: path, hash: snapshot.hash)) == true { return .rejected(message) }
        log(EngineEvent(level: .error, message: "\(path): \(message)"))
        do {
            let written = try writeErrorIntoBrokenNote(path: path, snapshot: snapshot, message: message, keepStatus: keepStatus)
            try runs.recordRejection(taskPath: path, hash: written, error: message)
        } catch {
            log(EngineEvent(level: .error, message: "\(path): could not record the error in the note: \(error)"))
            try? runs.recordRejection(taskPath: path, hash: snapshot.hash, error: message)
        }
        return .rejected(message)
    }

    /// How many lines `writeErrorIntoBrokenNote` inserts above the frontmatter's own lines: two
    /// (`status`, `error`) right after an opening `---` of a note whose frontmatter does not parse.
    static func errorLinesInsertedAtTop(_ bytes: [UInt8]) -> Int {
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        return bytes[start...].starts(with: Array("---".utf8)) ? 2 : 0
    }

    /// A frontmatter error as the note will show it: its line number counted in the note as the OS
    /// writes it back (with the `status`/`error` lines inserted above), and the offending line quoted,
    /// so the person finds it whatever moves.
    static func describe(_ error: FrontmatterError, in bytes: [UInt8], shiftedBy inserted: Int) -> String {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        var quoted = ""
        if error.line >= 1, error.line <= lines.count {
            var text = lines[error.line - 1].trimmingWhitespacesAndNewlines()
            if text.count > 60 { text = String(text.prefix(60)) + "…" }
            if !text.isEmpty { quoted = " (the line reads: \(text))" }
        }
        // The lines go in below the opening `---` (line 1): it stays where it is (an unclosed
        // frontmatter is reported there, and was said to be on line 3).
        let line = error.line > 1 ? error.line + inserted : error.line
        return "frontmatter line \(line), column \(error.column): \(error.message)\(quoted); fix it and the task runs"
    }

    /// Puts `status: failed` and `error:` into a note whose frontmatter does not parse, without
    /// touching anything else: as new lines right after the opening `---` (or a new block when there
    /// is none). A note whose frontmatter parses but whose `status` is not one the OS knows gets
    /// the `error` only (`keepStatus`): its `status` is the person's (`todo` of another convention,
    /// a typo) and is kept as written.
    func writeErrorIntoBrokenNote(path: String, snapshot: NoteSnapshot, message: String, keepStatus: Bool = false) throws -> ContentHash {
        let updates = [Property("status", .string("failed")), Property("error", .string(message))]
        var bytes: [UInt8]
        if let edited = try? FrontmatterEditor.apply(set: keepStatus ? [Property("error", .string(message))] : updates, to: snapshot.bytes) {
            bytes = edited
        } else {
            bytes = snapshot.bytes
            var start = 0
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }
            let newline: [UInt8] = bytes.firstIndex(of: 0x0A).map { $0 > 0 && bytes[$0 - 1] == 0x0D ? [0x0D, 0x0A] : [0x0A] } ?? [0x0A]
            let lines = updates.flatMap { FrontmatterEditor.serialize($0, newline: newline) }
            if bytes[start...].starts(with: Array("---".utf8)), let eol = bytes[start...].firstIndex(of: 0x0A) {
                bytes.insert(contentsOf: lines, at: eol + 1)
            } else {
                bytes.insert(contentsOf: Array("---".utf8) + newline + lines + Array("---".utf8) + newline, at: start)
            }
        }
        // Only over the version the message describes (its line numbers count in those bytes).
        let outcome = try store.update(path, attempts: 1) { current in
            guard let current, current.hash == snapshot.hash else {
                throw NoteWriteError.conflict(path: path, expected: .hash(snapshot.hash), found: current?.hash)
            }
            announce(path, bytes)
            return .write(bytes)
        }
        let hash = outcome.hash ?? ContentHash(of: bytes)
        remember(path, hash)
        return hash
    }
}
