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

    /// An integer option, with a usage error when it is not a number.
    public func int(_ option: String, default defaultValue: Int) throws(CLIError) -> Int {
        guard let text = value(option) else { return defaultValue }
        guard let n = Int(text) else { throw .usage("\(option) expects a whole number, got '\(text)'") }
        return n
    }

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
            if onlyPositionals || !argument.hasPrefix("-") || argument == "-" {
                parsed.positionals.append(argument)
                continue
            }
            if argument == "--" { onlyPositionals = true; continue }
            var name = argument
            var inlineValue: String?
            if let eq = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                name = String(argument[..<eq])
                inlineValue = String(argument[argument.index(after: eq)...])
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
                throw .usage("unknown option \(argument)")
            }
        }
        return parsed
    }
}
