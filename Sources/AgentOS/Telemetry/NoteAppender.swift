import Foundation

extension NoteStore {
    /// Appends text to the end of a note with compare-and-swap, creating it with `header` when absent.
    ///
    /// A person may be writing in the same note (a daily note, say): the append re-reads and retries
    /// on conflict, so their text is never lost and ours lands after it.
    @discardableResult
    public func append(_ text: String, to relativePath: String, header: @autoclosure () -> String, attempts: Int = 8) throws -> ContentHash {
        var lastError: Error?
        for _ in 0..<attempts {
            let existing = try readIfPresent(relativePath)
            var bytes: [UInt8]
            let expectation: WriteExpectation
            if let existing {
                bytes = existing.bytes
                if let last = bytes.last, last != 0x0A { bytes += Array(existingNewline(bytes).utf8) }
                expectation = .hash(existing.hash)
            } else {
                bytes = Array(header().utf8)
                expectation = .absent
            }
            bytes += Array(text.utf8)
            do {
                return try write(bytes, to: relativePath, expecting: expectation)
            } catch {
                if case .conflict = error { lastError = error; continue }
                throw error
            }
        }
        throw lastError!
    }

    private func existingNewline(_ bytes: [UInt8]) -> String {
        if let i = bytes.firstIndex(of: 0x0A), i > 0, bytes[i - 1] == 0x0D { return "\r\n" }
        return "\n"
    }
}
