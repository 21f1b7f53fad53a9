/// A parsed note: its properties in order, its body, and where the body starts.
public struct Note: Sendable {
    /// Properties in the order they appear (duplicate keys are kept; lookups take the last, as YAML loaders do).
    public let properties: [Property]
    /// Everything after the frontmatter (the whole text when there is none), without a BOM.
    public let body: String
    /// 1-based line number of the body's first line in the file.
    public let bodyStartLine: Int
    /// Whether the note has a frontmatter block.
    public let hasFrontmatter: Bool
    /// Whether the frontmatter is JSON rather than YAML (Obsidian accepts both).
    public let isJSONFrontmatter: Bool

    /// Parses a note's text. Malformed frontmatter throws a `FrontmatterError` with line and column.
    public static func parse(_ text: String) throws(FrontmatterError) -> Note {
        try parse(bytes: Array(text.utf8))
    }

    /// Parses a note's bytes (invalid UTF-8 is replaced, never fatal).
    public static func parse(bytes: [UInt8]) throws(FrontmatterError) -> Note {
        let layout = try NoteLayout.scan(bytes)
        let body = String(decoding: bytes[layout.bodyStart...], as: UTF8.self)
        guard layout.hasFrontmatter else {
            return Note(properties: [], body: body, bodyStartLine: 1, hasFrontmatter: false, isJSONFrontmatter: false)
        }
        let (properties, isJSON) = try parseFrontmatter(layout)
        return Note(properties: properties.map(\.0), body: body, bodyStartLine: layout.bodyStartLine, hasFrontmatter: true, isJSONFrontmatter: isJSON)
    }

    /// Parses the frontmatter block of `layout`: each property with the range of inner lines it spans,
    /// and whether the block is JSON.
    static func parseFrontmatter(_ layout: NoteLayout) throws(FrontmatterError) -> ([(Property, ClosedRange<Int>)], Bool) {
        var lines = layout.innerLines.map { String(decoding: layout.bytes[$0.content], as: UTF8.self) }
        // A byte-order mark where the YAML stream starts is not content (YAML 1.2, 5.2), e.g. in a
        // note pasted together from two files.
        if let first = lines.first, first.unicodeScalars.first == "\u{FEFF}" {
            lines[0] = String(first.unicodeScalars.dropFirst())
        }
        if let firstContent = lines.firstIndex(where: { !$0.trimmingSpaces.isEmpty }), lines[firstContent].trimmingSpaces.hasPrefix("{") {
            let text = lines.joined(separator: "\n")
            if let offset = rawControlCharacterInString(text) {
                let (line, column) = lineAndColumn(of: offset, in: text)
                throw FrontmatterError(line: 1 + line, column: column, message: "invalid JSON frontmatter: a line break or control character inside a string; write it as an escape such as \\n")
            }
            do {
                let json = try JSON.parse(text)
                guard case .object(let pairs) = json else {
                    throw FrontmatterError(line: 2 + firstContent, column: 1, message: "JSON frontmatter must be an object")
                }
                let range = 0...max(0, lines.count - 1)
                return (pairs.map { (Property($0.0, PropertyValue(json: $0.1)), range) }, true)
            } catch let error as FrontmatterError {
                throw error
            } catch let error as JSONParser.Failure {
                let (line, column) = lineAndColumn(of: error.offset, in: text)
                throw FrontmatterError(line: 1 + line, column: column, message: "invalid JSON frontmatter: \(error.message)")
            } catch {
                throw FrontmatterError(line: 2, column: 1, message: "invalid JSON frontmatter")
            }
        }
        var parser = YAMLParser(lines: lines, firstLineNumber: 2)
        return (try parser.parseDocument(), false)
    }

    /// The UTF-8 offset of the first raw control character inside a JSON string literal, if any
    /// (JSON forbids them; YAML would fold a line break inside quotes into a space).
    static func rawControlCharacterInString(_ text: String) -> Int? {
        var inString = false
        var escaped = false
        for (i, b) in text.utf8.enumerated() {
            if inString {
                if escaped { escaped = false } else if b == 0x5C { escaped = true } else if b == 0x22 { inString = false } else if b < 0x20 { return i }
            } else if b == 0x22 {
                inString = true
            }
        }
        return nil
    }

    /// The 1-based line and column of a UTF-8 offset in `text`.
    static func lineAndColumn(of offset: Int, in text: String) -> (Int, Int) {
        var line = 1
        var column = 1
        for (i, b) in text.utf8.enumerated() {
            if i >= offset { break }
            if b == 0x0A { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }

    /// The value of a property (the last one with that key), or `nil` when absent.
    public subscript(key: String) -> PropertyValue? {
        properties.last { $0.key == key }?.value
    }

    /// A property as text (`nil` when absent, null, or not a scalar).
    public func text(_ key: String) -> String? {
        guard let t = self[key]?.text?.trimmingSpaces, !t.isEmpty else { return nil }
        return t
    }

    /// A property as a list of texts (a single scalar counts as one item).
    public func texts(_ key: String) -> [String] {
        self[key]?.texts ?? []
    }

    /// The note's properties as a typed JSON object.
    public var propertiesJSON: JSON { .object(properties.map { ($0.key, $0.value.json) }) }
}

extension PropertyValue {
    /// The property value of a JSON value (JSON frontmatter).
    init(json: JSON) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let items): self = .list(items.map(PropertyValue.init(json:)))
        case .object(let pairs): self = .map(pairs.map { Property($0.0, PropertyValue(json: $0.1)) })
        }
    }

    /// Parses a value typed on the command line or by an agent (`KEY=VALUE`): YAML rules, so `true`,
    /// `3`, `2026-01-02`, `[a, b]` and `"quoted text"` get their types and anything else is text.
    public static func parseInput(_ text: String) throws(FrontmatterError) -> PropertyValue {
        let trimmed = text.trimmingSpaces
        guard let first = trimmed.unicodeScalars.first else { return .null }
        if first == "[" || first == "{" || first == "\"" || first == "'" {
            var flow = FlowParser(Array(trimmed.unicodeScalars))
            do {
                let value = try flow.parseValue()
                flow.skipSpaces()
                if flow.position == flow.scalars.count { return value }
            } catch {
                throw FrontmatterError(line: 1, column: error.offset + 1, message: error.message)
            }
            return .string(text)
        }
        if trimmed.contains("\n") { return .string(text) }
        return YAMLParser.resolvePlain(trimmed)
    }
}
