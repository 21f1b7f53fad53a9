import Foundation

extension NoteStore {
    /// Appends text to the end of a note by `update`, creating it with `header` when absent.
    ///
    /// A person may be writing in the same note (a daily note, say): a lost race re-reads and appends
    /// again, so their text is never lost and ours lands after it.
    @discardableResult
    public func append(_ text: String, to relativePath: String, header: @autoclosure () -> String, attempts: Int = 8) throws -> ContentHash {
        let outcome = try update(relativePath, attempts: attempts) { existing in
            .write(NoteStore.appending(Array(text.utf8), to: existing?.bytes ?? Array(header().utf8)))
        }
        return outcome.hash ?? ContentHash(of: [UInt8]())
    }

    /// `lines` (LF-separated) added at the end of `bytes` in the note's own line endings: after a
    /// line break if its last line has none, and with CRLF in a CRLF note (a Windows editor, git's
    /// `autocrlf`): LF lines were appended to such notes, the day's log and telemetry (round 46).
    static func appending(_ lines: [UInt8], to bytes: [UInt8]) -> [UInt8] {
        let crlf = bytes.firstIndex(of: 0x0A).map { $0 > 0 && bytes[$0 - 1] == 0x0D } ?? false
        let newline: [UInt8] = crlf ? [0x0D, 0x0A] : [0x0A]
        var out = bytes
        if let last = out.last, last != 0x0A { out += newline }
        guard crlf else { return out + lines }
        for (i, line) in lines.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            if i > 0 { out += newline }
            // A line already ending in CR keeps it once.
            out += line.last == 0x0D ? line.dropLast() : line
        }
        return out
    }
}
