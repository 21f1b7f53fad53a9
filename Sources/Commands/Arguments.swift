import AgentOS

/// A command-line error: `usage` exits 64, `failure` exits 1. The message is one line for stderr.
public enum CLIError: Error, CustomStringConvertible, Equatable {
    case usage(String)
    case failure(String)

    public var description: String {
        switch self {
        case .usage(let m), .failure(let m): return m
        }
    }

    public var exitCode: Int32 {
        switch self {
        case .usage: return 64
        case .failure: return 1
        }
    }
}

/// The parsed arguments of one subcommand: positionals, boolean flags and valued options.
public struct ParsedArguments: Sendable {
    public var positionals: [String] = []
    public var flags: Set<String> = []
    public var options: [String: [String]] = [:]

    public func has(_ flag: String) -> Bool { flags.contains(flag) }
    /// The last value given for an option (`--limit 5`, `--limit=5`).
    public func value(_ option: String) -> String? { options[option]?.last }
    /// Every value given for a repeatable option.
    public func values(_ option: String) -> [String] { options[option] ?? [] }

    /// An integer option, with a usage error when it is not a whole number within ±`largestInt`
    /// (`search -n 4611686018427387904` overflowed the arithmetic behind it and stopped the
    /// command without a word: an outside attack).
    public func int(_ option: String, default defaultValue: Int) throws(CLIError) -> Int {
        guard let text = value(option) else { return defaultValue }
        guard let n = Int(text), n >= -ParsedArguments.largestInt, n <= ParsedArguments.largestInt else { throw .usage("\(option) expects a whole number up to \(ParsedArguments.largestInt), got '\(text)'") }
        return n
    }

    /// The largest whole number an option takes.
    public static let largestInt = 1_000_000_000

    /// Parses `arguments` against a command's declared flags and options.
    ///
    /// `aliases` maps short spellings (`-n`) to long ones (`--limit`). `--` ends option parsing.
    public static func parse(_ arguments: [String], flags: Set<String>, options: Set<String>, aliases: [String: String] = [:]) throws(CLIError) -> ParsedArguments {
        var parsed = ParsedArguments()
        var index = 0
        var onlyPositionals = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            // An option's name never holds a space: `"-draft notes"`, quoted in the shell, is text.
            let named = argument.hasPrefix("--") ? argument.prefix { $0 != "=" } : Substring(argument)
            if onlyPositionals || !argument.hasPrefix("-") || argument == "-" || named.contains(where: \.isWhitespace) {
                parsed.positionals.append(argument)
                continue
            }
            if argument == "--" { onlyPositionals = true; continue }
            var name = argument
            var inlineValue: String?
            if let eq = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                name = String(argument[..<eq])
                inlineValue = String(argument[argument.index(after: eq)...])
            } else if !argument.hasPrefix("--"), argument.count > 2, case let short = String(argument.prefix(2)),
                      let long = aliases[short], options.contains(long), argument.dropFirst(2).allSatisfy(\.isASCIIDigitCharacter) {
                // A short option with its number attached, as `head -n5` and `rg -m1` take it
                // (only a number: `search -nature` stays a word to leave out).
                name = short
                inlineValue = String(argument.dropFirst(2))
            }
            if let long = aliases[name] { name = long }
            if flags.contains(name) {
                if inlineValue != nil { throw .usage("\(name) takes no value") }
                parsed.flags.insert(name)
            } else if options.contains(name) {
                let value: String
                if let inlineValue {
                    value = inlineValue
                } else {
                    guard index < arguments.count else { throw .usage("\(name) needs a value") }
                    value = arguments[index]
                    index += 1
                }
                parsed.options[name, default: []].append(value)
            } else if Int(argument) != nil {
                parsed.positionals.append(argument) // a negative number
            } else {
                let hint = Suggestion.closest(to: name, among: Array(flags) + Array(options)).map { "; did you mean \($0)?" } ?? ""
                throw .usage("unknown option \(argument)\(hint)")
            }
        }
        return parsed
    }
}

private extension Character {
    var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}

/// "Did you mean …?" for a mistyped command or option.
enum Suggestion {
    /// The known word closest to `word`: within two edits (one for short words), or the only one it
    /// begins; `nil` when nothing is close.
    static func closest(to word: String, among known: [String]) -> String? {
        let typed = word.lowercased()
        guard !typed.isEmpty else { return nil }
        let allowed = typed.count <= 4 ? 1 : 2
        let scored = known.map { ($0, distance(typed, $0.lowercased())) }.filter { $0.1 <= allowed }
        if let best = scored.min(by: { ($0.1, $0.0) < ($1.1, $1.0) }) { return best.0 }
        let prefixed = known.filter { $0.lowercased().hasPrefix(typed) }
        return prefixed.count == 1 ? prefixed[0] : nil
    }

    /// Levenshtein distance with adjacent transpositions counted as one edit.
    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous2 = [Int](repeating: 0, count: y.count + 1)
        var previous = Array(0...y.count)
        for i in 1...x.count {
            var current = [Int](repeating: 0, count: y.count + 1)
            current[0] = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            previous2 = previous
            previous = current
        }
        return previous[y.count]
    }
}
