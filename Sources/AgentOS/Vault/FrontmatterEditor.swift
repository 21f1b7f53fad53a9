/// Changes properties of a note while leaving every other byte as it was: the order of other
/// properties, comments, quoting, blank lines, line endings, a BOM, and the body.
public enum FrontmatterEditor {
    /// Returns the note's bytes with `updates` set and `removals` removed.
    ///
    /// A property that exists is replaced where it stands; a new one is appended at the end of the
    /// frontmatter; a note without frontmatter gains a block. Removing the last property removes the
    /// block, so setting and then unsetting a property gives back the original bytes. A key given
    /// twice in `updates` takes its last value.
    public static func apply(set updates: [Property], unset removals: [String] = [], to bytes: [UInt8]) throws(FrontmatterError) -> [UInt8] {
        let updates = lastValuePerKey(updates)
        let layout = try NoteLayout.scan(bytes)
        let newline = layout.newline
        let removalSet = Set(removals).subtracting(updates.map(\.key))

        guard layout.hasFrontmatter else {
            if updates.isEmpty { return bytes }
            var out = Array(bytes[0..<layout.bomLength])
            out += Array("---".utf8) + newline
            for property in updates { out += serialize(property, newline: newline) }
            out += Array("---".utf8) + newline
            out += bytes[layout.bomLength...]
            return out
        }

        let (entries, isJSON) = try Note.parseFrontmatter(layout)
        if isJSON {
            return try applyJSON(entries.map(\.0), updates: updates, removals: removalSet, layout: layout)
        }

        let edited = editYAML(layout, entries: entries, updates: updates, removals: removalSet, absorbingBlankLines: false)
        if edited.removedLines {
            // Blank lines after a removed property can join a block scalar above it (`|+` keeps them,
            // and white space beyond the indentation is content). If any other property reads back
            // differently, remove the blank lines that followed each removed property as well.
            let updatedKeys = Set(updates.map(\.key))
            let kept = entries.map(\.0).filter { !updatedKeys.contains($0.key) && !removalSet.contains($0.key) }
            let reread = try? Note.parse(bytes: edited.bytes)
            if reread.map({ note in kept.contains { note[$0.key] != lastValue(of: $0.key, in: entries) } }) ?? true {
                return editYAML(layout, entries: entries, updates: updates, removals: removalSet, absorbingBlankLines: true).bytes
            }
        }
        return edited.bytes
    }

    /// The value a reader sees for `key`: the last one.
    static func lastValue(of key: String, in entries: [(Property, ClosedRange<Int>)]) -> PropertyValue? {
        entries.last { $0.0.key == key }?.0.value
    }

    /// Rewrites the YAML frontmatter line by line: replaced properties where they stand, removed ones
    /// gone (with the blank lines after them when `absorbingBlankLines`), new ones at the end.
    static func editYAML(_ layout: NoteLayout, entries: [(Property, ClosedRange<Int>)], updates: [Property], removals: Set<String>, absorbingBlankLines: Bool) -> (bytes: [UInt8], removedLines: Bool) {
        let bytes = layout.bytes
        let newline = layout.newline
        guard let opening = layout.opening, let closing = layout.closing else { return (bytes, false) }
        // YAML allows an indented top-level mapping; new lines must line up with the existing ones.
        var indent = 0
        if let first = entries.first {
            var line = bytes[layout.innerLines[first.1.lowerBound].content]
            // The parser ignores a byte-order mark where the YAML starts; so must the count.
            if line.starts(with: [0xEF, 0xBB, 0xBF]) { line = line.dropFirst(3) }
            indent = line.prefix(while: { $0 == 0x20 }).count
        }
        var startOfEntry: [Int: Int] = [:] // line index -> entry index
        for (i, entry) in entries.enumerated() { startOfEntry[entry.1.lowerBound] = i }
        let updateByKey = Dictionary(updates.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        var written = Set<String>()
        var removedSomething = false
        var innerOut: [UInt8] = []
        var keptLines = 0
        var line = 0
        func skipBlankLines() {
            guard absorbingBlankLines else { return }
            while line < layout.innerLines.count, bytes[layout.innerLines[line].content].allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                line += 1
            }
        }
        while line < layout.innerLines.count {
            if let e = startOfEntry[line] {
                let (property, range) = entries[e]
                if let update = updateByKey[property.key] {
                    line = range.upperBound + 1
                    if !written.contains(property.key) {
                        innerOut += serialize(update, indent: indent, newline: newline)
                        written.insert(property.key)
                        keptLines += 1
                    } else {
                        removedSomething = true
                        skipBlankLines()
                    }
                    continue
                }
                if removals.contains(property.key) {
                    removedSomething = true
                    line = range.upperBound + 1
                    skipBlankLines()
                    continue
                }
            }
            innerOut += bytes[layout.innerLines[line].full]
            keptLines += 1
            line += 1
        }
        for property in updates where !written.contains(property.key) {
            // The last inner line always ends with a line break (the closing '---' follows it).
            innerOut += serialize(property, indent: indent, newline: newline)
            written.insert(property.key)
            keptLines += 1
        }
        if removedSomething && keptLines == 0 {
            // Nothing left: drop the block, as Obsidian does when the last property is deleted, unless
            // the body would then read differently: a body starting with a `---` line would open a new
            // block, one starting with U+FEFF would lose it as a byte-order mark.
            let dropped = Array(bytes[0..<layout.bomLength]) + Array(bytes[layout.bodyStart...])
            if let rescanned = try? NoteLayout.scan(dropped), !rescanned.hasFrontmatter, rescanned.bodyStart == layout.bomLength {
                return (dropped, true)
            }
        }
        return (Array(bytes[0..<opening.upperBound]) + innerOut + Array(bytes[closing.lowerBound...]), removedSomething)
    }

    /// One update per key, at the position of its first mention, with its last value.
    static func lastValuePerKey(_ updates: [Property]) -> [Property] {
        var position: [String: Int] = [:]
        var result: [Property] = []
        for update in updates {
            if let i = position[update.key] {
                result[i] = update
            } else {
                position[update.key] = result.count
                result.append(update)
            }
        }
        return result
    }

    /// Convenience over text.
    public static func apply(set updates: [Property], unset removals: [String] = [], to text: String) throws(FrontmatterError) -> String {
        String(decoding: try apply(set: updates, unset: removals, to: Array(text.utf8)), as: UTF8.self)
    }

    /// JSON frontmatter is edited member by member: a changed value is replaced in place, a removed
    /// member takes its separator with it, and a new member is appended with the separator the others
    /// use, so that setting and then removing a property gives back the same bytes.
    static func applyJSON(_ properties: [Property], updates: [Property], removals: Set<String>, layout: NoteLayout) throws(FrontmatterError) -> [UInt8] {
        let bytes = layout.bytes
        guard let opening = layout.opening, let closing = layout.closing else { return bytes }
        guard let object = JSONObjectLayout(bytes, opening.upperBound..<closing.lowerBound), object.members.count == properties.count else {
            // The block parsed as JSON, so the scan cannot fail; rewriting it whole is the safe fallback.
            return rewriteJSON(properties, updates: updates, removals: removals, layout: layout)
        }
        let updateByKey = Dictionary(updates.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        var written = Set<String>()
        // Each kept member: the separator before it (nil for the first member) and its text.
        var kept: [(separator: ArraySlice<UInt8>?, text: [UInt8])] = []
        for (i, (property, member)) in zip(properties, object.members).enumerated() {
            let separator = i == 0 ? nil : bytes[object.members[i - 1].end..<member.keyStart]
            if let update = updateByKey[property.key] {
                guard written.insert(property.key).inserted else { continue }
                kept.append((separator, Array(bytes[member.keyStart..<member.valueStart]) + Array(update.value.json.compact.utf8)))
            } else if !removals.contains(property.key) {
                kept.append((separator, Array(bytes[member.keyStart..<member.end])))
            }
        }
        // New members use the last separator in the object, or one built from the space after `{`.
        let head = object.members.first.map { bytes[(object.open + 1)..<$0.keyStart] } ?? []
        let newSeparator: [UInt8] = object.members.count >= 2
            ? Array(bytes[object.members[object.members.count - 2].end..<object.members[object.members.count - 1].keyStart])
            : Array(",".utf8) + (head.isEmpty ? Array(" ".utf8) : Array(head))
        for update in updates where !written.contains(update.key) {
            written.insert(update.key)
            var text: [UInt8] = []
            JSON.quote(update.key, into: &text)
            kept.append((kept.isEmpty ? nil : newSeparator[...], text + Array(": ".utf8) + Array(update.value.json.compact.utf8)))
        }
        var out = Array(bytes[..<(object.open + 1)])
        out += head
        for (i, member) in kept.enumerated() {
            if i > 0 { out += member.separator ?? newSeparator[...] }
            out += member.text
        }
        let tailStart = object.members.last?.end ?? (object.open + 1)
        out += bytes[tailStart...]
        return out
    }

    /// Rewrites JSON frontmatter as a whole (key order kept).
    static func rewriteJSON(_ properties: [Property], updates: [Property], removals: Set<String>, layout: NoteLayout) -> [UInt8] {
        guard let opening = layout.opening, let closing = layout.closing else { return layout.bytes }
        var pairs: [(String, JSON)] = []
        var written = Set<String>()
        let updateByKey = Dictionary(updates.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        for property in properties {
            if removals.contains(property.key) { continue }
            if let update = updateByKey[property.key] {
                if written.insert(property.key).inserted { pairs.append((property.key, update.value.json)) }
            } else {
                pairs.append((property.key, property.value.json))
            }
        }
        for update in updates where !written.contains(update.key) { pairs.append((update.key, update.value.json)) }
        let text = JSON.object(pairs).pretty.replacingNewlines(with: layout.newline)
        return Array(layout.bytes[0..<opening.upperBound]) + Array(text.utf8) + layout.newline + Array(layout.bytes[closing.lowerBound...])
    }

    /// One property as YAML lines, in the style Obsidian writes, indented by `indent` spaces.
    static func serialize(_ property: Property, indent: Int = 0, newline: [UInt8]) -> [UInt8] {
        var out = Array(repeating: UInt8(0x20), count: indent) + Array(serializeKey(property.key).utf8) + Array(":".utf8)
        appendValue(property.value, indent: indent, into: &out, newline: newline)
        return out
    }

    /// Appends a value after `key:`: scalars on the same line, lists and maps on indented lines below.
    static func appendValue(_ value: PropertyValue, indent: Int, into out: inout [UInt8], newline: [UInt8]) {
        switch value {
        case .null:
            out += newline
        case .list(let items) where items.isEmpty:
            out += Array(" []".utf8) + newline
        case .list(let items):
            out += newline
            for item in items {
                out += Array((String(repeating: " ", count: indent + 2) + "-").utf8)
                switch item {
                case .list, .map:
                    out += Array(" ".utf8) + Array(flow(item).utf8) + newline
                default:
                    out += Array(" ".utf8)
                    out += Array(scalar(item).utf8) + newline
                }
            }
        case .map(let pairs) where pairs.isEmpty:
            out += Array(" {}".utf8) + newline
        case .map(let pairs):
            out += newline
            for pair in pairs {
                out += Array((String(repeating: " ", count: indent + 2) + serializeKey(pair.key) + ":").utf8)
                appendValue(pair.value, indent: indent + 2, into: &out, newline: newline)
            }
        default:
            out += Array(" ".utf8) + Array(scalar(value).utf8) + newline
        }
    }

    /// A key as written in a block mapping: plain when it reads back as the same name, else quoted.
    static func serializeKey(_ key: String) -> String {
        guard let first = key.unicodeScalars.first,
              !"-?:,[]{}#&*!|>'\"%@`".unicodeScalars.contains(first),
              key == key.trimmingSpaces,
              !key.contains(": "), !key.hasSuffix(":"), !key.contains(" #"),
              !key.unicodeScalars.contains(where: isUnsafeInPlain) else {
            return doubleQuoted(key)
        }
        return key
    }

    /// A key as written inside `{...}`, where `,[]{}` and `:` would end it.
    static func serializeFlowKey(_ key: String) -> String {
        let block = serializeKey(key)
        if block.unicodeScalars.first == "\"" { return block }
        return key.contains(where: { ",[]{}:".contains($0) }) ? doubleQuoted(key) : key
    }

    /// Characters a plain scalar must not hold: they would be read differently or make the line
    /// hard to read back (control characters, tabs, Unicode line breaks, a byte-order mark).
    static func isUnsafeInPlain(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\u{FEFF}" || scalar == "\u{85}" || scalar == "\u{2028}" || scalar == "\u{2029}"
    }

    /// A scalar written plain when that reads back as the same value, else double-quoted.
    static func scalar(_ value: PropertyValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return PropertyValue.format(double: d)
        case .date(let s), .datetime(let s): return s
        case .string(let s): return plainIsSafe(s) ? s : doubleQuoted(s)
        case .list, .map: return flow(value)
        }
    }

    /// A value in flow style (`[a, b]`, `{k: v}`), for items nested inside a list.
    public static func flow(_ value: PropertyValue) -> String {
        switch value {
        case .list(let items): return "[" + items.map(flow).joined(separator: ", ") + "]"
        case .map(let pairs): return "{" + pairs.map { serializeFlowKey($0.key) + ": " + flow($0.value) }.joined(separator: ", ") + "}"
        case .string(let s): return plainIsSafe(s) && !s.contains(where: { ",[]{}".contains($0) }) ? s : doubleQuoted(s)
        default: return scalar(value)
        }
    }

    /// Whether `s` can be written without quotes and still read back as the same text.
    static func plainIsSafe(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first else { return false }
        if "-?:,[]{}#&*!|>'\"%@`".unicodeScalars.contains(first) { return false }
        if s != s.trimmingSpaces { return false }
        if s.contains(": ") || s.hasSuffix(":") || s.contains(" #") { return false }
        if s.unicodeScalars.contains(where: isUnsafeInPlain) { return false }
        if case .string = YAMLParser.resolvePlain(s) { return true }
        return false
    }

    /// `s` as a double-quoted YAML scalar with escapes.
    static func doubleQuoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\u{FEFF}" || scalar == "\u{85}" || scalar == "\u{2028}" || scalar == "\u{2029}" {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// Where the members of a JSON object lie in a note's bytes (the object is known to be valid JSON).
struct JSONObjectLayout {
    /// One `"key": value` member.
    struct Member {
        /// The opening quote of the key.
        let keyStart: Int
        /// The first byte of the value.
        let valueStart: Int
        /// Just after the value.
        let end: Int
    }

    /// The `{` and `}` offsets.
    let open: Int
    let close: Int
    let members: [Member]

    /// Scans the object in `bytes[range]`; `nil` if the range is not a single JSON object.
    init?(_ bytes: [UInt8], _ range: Range<Int>) {
        var i = range.lowerBound
        let end = range.upperBound
        func skipSpace() {
            while i < end, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        }
        func skipString() -> Bool {
            i += 1
            while i < end {
                if bytes[i] == 0x5C { i += 2; continue }
                if bytes[i] == 0x22 { i += 1; return true }
                i += 1
            }
            return false
        }
        func skipValue() -> Bool {
            guard i < end else { return false }
            if bytes[i] == 0x22 { return skipString() }
            if bytes[i] == 0x5B || bytes[i] == 0x7B {
                var depth = 0
                while i < end {
                    switch bytes[i] {
                    case 0x22: if !skipString() { return false }; continue
                    case 0x5B, 0x7B: depth += 1
                    case 0x5D, 0x7D:
                        depth -= 1
                        if depth == 0 { i += 1; return true }
                    default: break
                    }
                    i += 1
                }
                return false
            }
            let start = i
            while i < end, ![0x2C, 0x7D, 0x5D, 0x20, 0x0A, 0x0D, 0x09].contains(bytes[i]) { i += 1 }
            return i > start
        }
        // The parser ignores a byte-order mark where the block starts.
        if bytes[i..<end].starts(with: [0xEF, 0xBB, 0xBF]) { i += 3 }
        skipSpace()
        guard i < end, bytes[i] == 0x7B else { return nil }
        open = i
        i += 1
        var members: [Member] = []
        skipSpace()
        if i < end, bytes[i] == 0x7D {
            close = i
            self.members = []
            return
        }
        while true {
            skipSpace()
            guard i < end, bytes[i] == 0x22 else { return nil }
            let keyStart = i
            guard skipString() else { return nil }
            skipSpace()
            guard i < end, bytes[i] == 0x3A else { return nil }
            i += 1
            skipSpace()
            let valueStart = i
            guard skipValue() else { return nil }
            members.append(Member(keyStart: keyStart, valueStart: valueStart, end: i))
            skipSpace()
            guard i < end else { return nil }
            if bytes[i] == 0x2C { i += 1; continue }
            guard bytes[i] == 0x7D else { return nil }
            close = i
            self.members = members
            return
        }
    }
}

extension JSON {
    /// Appends `s` as a JSON string literal to UTF-8 bytes.
    static func quote(_ s: String, into bytes: inout [UInt8]) {
        var text = ""
        quote(s, into: &text)
        bytes += Array(text.utf8)
    }
}

extension String {
    /// The text with `\n` replaced by `newline` when that is `\r\n`.
    func replacingNewlines(with newline: [UInt8]) -> String {
        newline.count == 1 ? self : split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n")
    }
}

extension NoteStore {
    /// Sets and removes properties of a note by `update`, re-applying the change over the newer note
    /// when it changed underneath (so a person's concurrent edit survives).
    ///
    /// - Parameter expected: the hash the caller read, if it read the note earlier; a mismatch on the
    ///   first attempt is then reported as a conflict instead of merged.
    /// - Returns: the hash of the note afterwards (unchanged when it already had these properties).
    @discardableResult
    public func updateProperties(_ relativePath: String, set updates: [Property], unset removals: [String] = [], expected: ContentHash? = nil, attempts: Int = 5) throws -> ContentHash {
        var first = true
        let outcome = try update(relativePath, attempts: attempts) { current in
            // A missing note is an error here, the one `read` reports.
            guard let current else { return .write(try FrontmatterEditor.apply(set: updates, unset: removals, to: try read(relativePath).bytes)) }
            if first, let expected, expected != current.hash {
                throw NoteWriteError.conflict(path: current.relativePath, expected: .hash(expected), found: current.hash)
            }
            first = false
            let newBytes = try FrontmatterEditor.apply(set: updates, unset: removals, to: current.bytes)
            return newBytes == current.bytes ? .keep : .write(newBytes)
        }
        return outcome.hash ?? ContentHash(of: [UInt8]())
    }
}
