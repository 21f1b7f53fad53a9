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
            // Told as the person wrote it: with the OS's earlier error taken out (it is replaced), the
            // line quoted is theirs, not the OS's members before it on a JSON line.
            let cleaned = TaskEngine.withoutEarlierErrors(snapshot.bytes)
            var failure: FrontmatterError?
            if cleaned != snapshot.bytes {
                do { _ = try Note.parse(bytes: cleaned) } catch { failure = error }
            }
            if let failure {
                message = TaskEngine.describe(failure, in: cleaned, shiftedBy: TaskEngine.errorLinesInsertedAtTop(cleaned))
            } else {
                message = TaskEngine.describe(parse, in: snapshot.bytes, shiftedBy: TaskEngine.errorLinesInsertedAtTop(snapshot.bytes))
            }
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
    /// None in a JSON block: its members go in on its first line. The pairs the OS wrote before
    /// are taken out first (`earlierErrors`), so their lines count against the two.
    static func errorLinesInsertedAtTop(_ bytes: [UInt8]) -> Int {
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        guard bytes[start...].starts(with: Array("---".utf8)), let eol = bytes[start...].firstIndex(of: 0x0A) else { return 0 }
        if case .json? = firstLine(ofBlockIn: bytes, from: eol + 1) { return 0 }
        return 2 - (earlierErrors(in: bytes, from: eol + 1)?.lines ?? 0)
    }

    /// `bytes` without the OS's earlier errors at the top of its frontmatter (`earlierErrors`).
    static func withoutEarlierErrors(_ bytes: [UInt8]) -> [UInt8] {
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        guard bytes[start...].starts(with: Array("---".utf8)), let eol = bytes[start...].firstIndex(of: 0x0A),
              let earlier = earlierErrors(in: bytes, from: eol + 1) else { return bytes }
        var cleaned = bytes
        cleaned.removeSubrange(earlier.range)
        return cleaned
    }

    /// The `status: failed` / `error: frontmatter line …` pairs the OS wrote at the top of a block
    /// starting at byte `from` (lines, any indentation) or of its JSON object (members after `{`):
    /// the bytes they take and how many lines. A note saved broken twice had two pairs, and its
    /// `error` read the lower, older one: the person's fix was not seen as one, and the task never
    /// ran (an outside attack). Each write of an error replaces them.
    static func earlierErrors(in bytes: [UInt8], from: Int) -> (range: Range<Int>, lines: Int)? {
        if case .json(let brace)? = firstLine(ofBlockIn: bytes, from: from) {
            let opening = Array(#""status": "failed", "error": "frontmatter line "#.utf8)
            var end = brace + 1
            while bytes[end...].starts(with: opening) {
                var i = end + opening.count
                while i < bytes.count, bytes[i] != UInt8(ascii: "\""), bytes[i] != 0x0A { i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1 }
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { break }
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: ",") { i += 1 }
                while i < bytes.count, bytes[i] == 0x20 { i += 1 }
                end = i
            }
            return end > brace + 1 ? (brace + 1..<end, 0) : nil
        }
        var end = from
        var lines = 0
        func line(at start: Int) -> (text: [UInt8], next: Int)? {
            guard start < bytes.count else { return nil }
            let stop = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            return (Array(bytes[start..<stop].drop { $0 == 0x20 }.filter { $0 != 0x0D }), min(stop + 1, bytes.count))
        }
        while let status = line(at: end), status.text == Array("status: failed".utf8), let error = line(at: status.next),
              ["error: \"frontmatter line ", "error: 'frontmatter line ", "error: frontmatter line "].contains(where: { error.text.starts(with: Array($0.utf8)) }) {
            end = error.next
            lines += 2
        }
        return lines > 0 ? (from..<end, lines) : nil
    }

    /// A frontmatter error as the note will show it: its line number counted in the note as the OS
    /// writes it back (with the `status`/`error` lines inserted above), and the offending line quoted,
    /// so the person finds it whatever moves.
    static func describe(_ error: FrontmatterError, in bytes: [UInt8], shiftedBy inserted: Int) -> String {
        // "\r\n" is one Character: split on it too, or a CRLF note was one line and had no quote.
        let lines = String(decoding: bytes, as: UTF8.self).split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        var quoted = ""
        if error.line >= 1, error.line <= lines.count {
            // Up to a lone CR: the rest of a note written with them is not this line.
            var text = String(lines[error.line - 1].prefix { $0 != "\r" }).trimmingWhitespacesAndNewlines()
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
            // A block whose lines end in a lone CR (old Mac line endings) is found and written in
            // as a block of such lines: its lone CRs read as line ends (`lineView`, byte for byte
            // the same length), the OS's lines ended with a CR. A new block in front of it made
            // the person's properties body text once they saved the note with LF as the error
            // said: `privacy: private` was gone and the task went to claude (an outside attack).
            let loneCR = TaskEngine.opensWithLoneCR(bytes, from: start)
            var view = loneCR ? TaskEngine.lineView(bytes) : bytes
            let newline: [UInt8] = loneCR ? [0x0D] : bytes.firstIndex(of: 0x0A).map { $0 > 0 && bytes[$0 - 1] == 0x0D ? [0x0D, 0x0A] : [0x0A] } ?? [0x0A]
            let written = keepStatus ? [Property("error", .string(message))] : updates
            if view[start...].starts(with: Array("---".utf8)), let eol = view[start...].firstIndex(of: 0x0A) {
                if let earlier = TaskEngine.earlierErrors(in: view, from: eol + 1) {
                    bytes.removeSubrange(earlier.range)
                    view = loneCR ? TaskEngine.lineView(bytes) : bytes
                }
                // Written as the block is: with the indentation of its first line, or as members of
                // its JSON object. At column 0 they broke an indented block or a JSON one, and the
                // person's fix of the line the error named then failed on the OS's own lines,
                // which piled up at every save (an outside attack).
                switch TaskEngine.firstLine(ofBlockIn: view, from: eol + 1) {
                case .json(let brace)?:
                    var members = written.map { property in
                        JSON.string(property.key).compact + ": " + JSON.string(property.value.text ?? "").compact
                    }.joined(separator: ", ")
                    let next = view[(brace + 1)...].first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D && $0 != 0x0A }
                    if next != UInt8(ascii: "}") { members += ", " }
                    bytes.insert(contentsOf: Array(members.utf8), at: brace + 1)
                case .yaml(let indent)?:
                    bytes.insert(contentsOf: written.flatMap { FrontmatterEditor.serialize($0, indent: indent, newline: newline) }, at: eol + 1)
                case nil:
                    bytes.insert(contentsOf: written.flatMap { FrontmatterEditor.serialize($0, newline: newline) }, at: eol + 1)
                }
            } else {
                bytes.insert(contentsOf: Array("---".utf8) + newline + written.flatMap { FrontmatterEditor.serialize($0, newline: newline) } + Array("---".utf8) + newline, at: start)
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

extension TaskEngine {
    /// Whether the note (from `start`, after a BOM) opens with `---` and spaces ended by a lone CR,
    /// as `Frontmatter.scan` refuses it.
    static func opensWithLoneCR(_ bytes: [UInt8], from start: Int) -> Bool {
        guard bytes[start...].starts(with: Array("---".utf8)) else { return false }
        var after = start + 3
        while after < bytes.count, bytes[after] == 0x20 || bytes[after] == 0x09 { after += 1 }
        return after + 1 < bytes.count && bytes[after] == 0x0D && bytes[after + 1] != 0x0A
    }

    /// `bytes` with every lone CR (one not before an LF) made an LF: the same length, so a range
    /// found in it is the same range of `bytes`.
    static func lineView(_ bytes: [UInt8]) -> [UInt8] {
        var view = bytes
        for index in view.indices where view[index] == 0x0D && (index + 1 == view.count || view[index + 1] != 0x0A) { view[index] = 0x0A }
        return view
    }
}

/// The first line with text of a frontmatter block (`writeErrorIntoBrokenNote`).
enum FrontmatterBlockStart: Equatable {
    /// A JSON object: where its `{` is.
    case json(brace: Int)
    /// YAML, its first line indented by this many spaces.
    case yaml(indent: Int)
}

extension TaskEngine {
    /// How the frontmatter block starting at byte `from` (the line after the opening `---`) begins:
    /// its first line that is neither blank nor a `#` comment, before the closing `---` or `...`;
    /// `nil` when there is none.
    static func firstLine(ofBlockIn bytes: [UInt8], from: Int) -> FrontmatterBlockStart? {
        var lineStart = from
        var found: FrontmatterBlockStart?
        while lineStart < bytes.count {
            let lineEnd = bytes[lineStart...].firstIndex(of: 0x0A) ?? bytes.count
            let line = bytes[lineStart..<lineEnd]
            let indent = line.prefix { $0 == 0x20 }.count
            let text = line.dropFirst(indent).filter { $0 != 0x0D }
            let trimmed = Array(text.drop { $0 == 0x09 || $0 == 0x20 })
            // Known only once the block closes: a block never closed runs into the body, whose
            // headings look like comments and whose lines are the person's text (an outside attack:
            // the OS wrote its members into a body line that began with `{`).
            let bare = Array(trimmed.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed())
            if bare == Array("---".utf8) || bare == Array("...".utf8) { return found }
            if found == nil, let first = trimmed.first, first != UInt8(ascii: "#") {
                if first == UInt8(ascii: "{"), let brace = line.firstIndex(of: UInt8(ascii: "{")) {
                    found = .json(brace: brace)
                } else {
                    found = .yaml(indent: indent)
                }
            }
            lineStart = lineEnd + 1
        }
        return nil
    }
}
