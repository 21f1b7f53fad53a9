import Foundation

extension NoteStore {
    /// Appends text to the end of a note by `update`, creating it with `header` when absent.
    ///
    /// A person may be writing in the same note (a daily note, say): a lost race re-reads and appends
    /// again, so their text is never lost and ours lands after it.
    @discardableResult
    public func append(_ text: String, to relativePath: String, header: @autoclosure () -> String, attempts: Int = 8) throws -> ContentHash {
        let outcome = try update(relativePath, attempts: attempts) { existing in
            var bytes: [UInt8]
            if let existing {
                bytes = existing.bytes
                if let last = bytes.last, last != 0x0A { bytes += Array(existingNewline(bytes).utf8) }
            } else {
                bytes = Array(header().utf8)
            }
            return .write(bytes + Array(text.utf8))
        }
        return outcome.hash ?? ContentHash(of: [UInt8]())
    }

    private func existingNewline(_ bytes: [UInt8]) -> String {
        if let i = bytes.firstIndex(of: 0x0A), i > 0, bytes[i - 1] == 0x0D { return "\r\n" }
        return "\n"
    }
}
