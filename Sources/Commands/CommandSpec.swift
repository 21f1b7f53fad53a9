import AgentOS
import Foundation

/// One option a command takes: a flag (`--keep`) or an option with a value (`--limit N`).
public struct OptionSpec: Sendable {
    /// The long name, with its dashes (`--limit`).
    public let name: String
    /// A short spelling (`-n`), if there is one.
    public let short: String?
    /// The value's placeholder in usage (`N`); `nil` for a flag.
    public let value: String?
    /// What it does, for `--help` and the man page (may span lines).
    public let help: String
    /// Whether it may be given several times (`--context NOTE`...).
    public let repeats: Bool
    /// Whether usage shows it as required (the command checks that it was given).
    public let required: Bool
    /// The actions it belongs to (`install` for `service --print`); empty: every action.
    public let actions: [String]

    /// A flag: present or not.
    public static func flag(_ name: String, _ help: String, short: String? = nil, actions: [String] = []) -> OptionSpec {
        OptionSpec(name: name, short: short, value: nil, help: help, repeats: false, required: false, actions: actions)
    }

    /// An option with a value.
    public static func option(_ name: String, _ value: String, _ help: String, short: String? = nil, repeats: Bool = false, required: Bool = false, actions: [String] = []) -> OptionSpec {
        OptionSpec(name: name, short: short, value: value, help: help, repeats: repeats, required: required, actions: actions)
    }

    /// `--json`, for commands that print data.
    public static func json(_ help: String, actions: [String] = []) -> OptionSpec {
        .flag("--json", help, actions: actions)
    }

    /// How usage shows it: `--limit N`, `[--keep]`, `[--context NOTE]...`.
    var usage: String {
        let word = (short ?? name) + (value.map { " " + $0 } ?? "")
        return required ? word : "[" + word + "]" + (repeats ? "..." : "")
    }

    /// The left column of the option list: `-n, --limit N`.
    var label: String {
        (short.map { $0 + ", " } ?? "") + name + (value.map { " " + $0 } ?? "")
    }

    /// Whether it belongs to `action` (`nil`: the command has no action, or none was given).
    /// `action` is `nil` for a usage line of several actions (any of them), `""` for the form
    /// without an action word in a command that also has actions (`mcp` beside `mcp install`).
    func applies(to action: String?) -> Bool {
        actions.isEmpty || action.map(actions.contains) ?? true
    }
}

/// One way to call a command: its action words and the arguments after them (`note set PATH
/// KEY=VALUE...`).
public struct CommandForm: Sendable {
    /// The words this form starts with, any one of them (`quick`, `full`); empty for a command without actions.
    public let actions: [String]
    /// The arguments as usage shows them (`PATH KEY=VALUE...`); empty for none.
    public let arguments: String
    /// How many arguments may follow the action; `nil`: any number (words of a prompt or query).
    public let maxArguments: Int?

    /// A form.
    public init(_ actions: [String] = [], arguments: String = "", max maxArguments: Int?) {
        self.actions = actions
        self.arguments = arguments
        self.maxArguments = maxArguments
    }
}

/// A subcommand, declared once: its name, summary, forms, options and description. The parser,
/// `--help`, the shell completions and the man page are all made from this declaration.
public struct CommandSpec: Sendable {
    /// The word that calls it (`search`).
    public let name: String
    /// One line for the overview and the completions.
    public let summary: String
    /// The ways to call it; usage shows one line per form.
    public let forms: [CommandForm]
    /// Its own options, in the order `--help` lists them.
    public let declared: [OptionSpec]
    /// What it does, in prose, after the usage lines in `--help`.
    public let description: String
    /// Whether the command needs an existing vault or may create one.
    public let vaultUse: VaultUse
    /// Runs it; returns the exit code (or throws: `CLIError` for usage, anything else exits 1).
    public let run: @Sendable (CommandContext) throws -> Int32

    /// A command declared with its forms, options and description.
    public init(name: String, summary: String, forms: [CommandForm], options: [OptionSpec] = [], description: String, vaultUse: VaultUse = .existing, run: @escaping @Sendable (CommandContext) throws -> Int32) {
        self.name = name
        self.summary = summary
        self.forms = forms
        self.declared = options
        self.description = description
        self.vaultUse = vaultUse
        self.run = run
    }

    /// Every option it accepts: its own, then the common ones it does not redefine.
    var allOptions: [OptionSpec] {
        declared + CLI.commonOptions.filter { common in !declared.contains { $0.name == common.name } }
    }

    /// Its flags (own and common), by long name.
    public var flags: Set<String> { Set(allOptions.filter { $0.value == nil }.map(\.name)) }
    /// Its valued options (own and common), by long name.
    public var options: Set<String> { Set(allOptions.filter { $0.value != nil }.map(\.name)) }
    /// Short spellings to long names (`-n` → `--limit`).
    public var aliases: [String: String] {
        Dictionary(allOptions.compactMap { option in option.short.map { ($0, option.name) } }, uniquingKeysWith: { a, _ in a })
    }
    /// The words its first argument may be (`note show|set|write`).
    public var actions: [String] { forms.flatMap(\.actions) }

    /// The usage lines, one per form, each listing the options that form takes.
    var usageLines: [String] {
        forms.map { form in
            let head = (["fuckbigtech", name] + [form.actions.joined(separator: "|"), form.arguments].filter { !$0.isEmpty }).joined(separator: " ")
            let action = form.actions.count == 1 ? form.actions[0] : (form.actions.isEmpty && !actions.isEmpty ? "" : nil)
            let words = declared.filter { $0.applies(to: action) }.map(\.usage)
            return Self.wrap(head, words, width: 100)
        }
    }

    /// `head` followed by `words`, wrapped at `width` with continuation lines indented under the
    /// first word after the command's name.
    static func wrap(_ head: String, _ words: [String], width: Int) -> String {
        let indent = String(repeating: " ", count: head.split(separator: " ").prefix(2).joined(separator: " ").count + 1)
        var lines = [head]
        for word in words {
            if lines[lines.count - 1].count + 1 + word.count > width {
                lines.append(indent + word)
            } else {
                lines[lines.count - 1] += " " + word
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The full `--help` text: usage, description, the command's options, the common options.
    var help: String {
        var out = "Usage: " + usageLines.joined(separator: "\n").replacingOccurrences(of: "\n", with: "\n       ")
        out += "\n\n" + description
        if !declared.isEmpty { out += "\n\nOptions:\n" + Self.table(declared) }
        let common = CLI.commonOptions.filter { common in !declared.contains { $0.name == common.name } }
        out += "\n\nCommon options:\n" + Self.table(common)
        return out
    }

    /// Options as two columns: label, then help (continuation lines aligned under it).
    static func table(_ options: [OptionSpec]) -> String {
        let width = (options.map(\.label.count).max() ?? 0) + 3
        return options.map { option in
            let pad = String(repeating: " ", count: width)
            let lines = option.help.split(separator: "\n", omittingEmptySubsequences: false)
            return "  " + option.label.padding(toLength: width, withPad: " ", startingAt: 0) + lines.joined(separator: "\n  " + pad)
        }.joined(separator: "\n")
    }

    /// Rejects what the declaration does not allow and the parser cannot see: a missing or unknown
    /// action, an option given to an action it does not belong to, and arguments beyond what the
    /// form takes. A command with actions may rely on its first argument being one of them.
    func check(_ parsed: ParsedArguments) throws(CLIError) {
        let words = parsed.positionals
        let form: CommandForm?
        let action: String?
        // The form without an action word, in a command that also has actions (`mcp` beside
        // `mcp install`): its options are declared for the action "".
        let bare = actions.isEmpty ? nil : forms.first(where: { $0.actions.isEmpty })
        if actions.isEmpty {
            form = forms.first
            action = nil
        } else if let first = words.first, let matched = forms.first(where: { $0.actions.contains(first) }) {
            form = matched
            action = first
        } else if let bare, words.first.flatMap({ Suggestion.closest(to: $0, among: actions) }) == nil {
            form = bare
            action = ""
        } else {
            let list = actions.map { "'\($0)'" }.dropLast().joined(separator: ", ") + (actions.count > 1 ? " or " : "") + "'\(actions.last ?? "")'"
            guard let first = words.first else { throw .usage("say \(list); see 'fuckbigtech \(name) --help'") }
            let hint = Suggestion.closest(to: first, among: actions).map { "did you mean '\($0)'? " } ?? ""
            throw .usage("unknown action '\(first)'; \(hint)use \(list)")
        }
        for option in declared where !option.applies(to: action) {
            if parsed.has(option.name) || !parsed.values(option.name).isEmpty {
                let called = [name, action ?? ""].filter { !$0.isEmpty }.joined(separator: " ")
                throw .usage("\(option.name) is not an option of '\(called)'; see 'fuckbigtech \(name) --help'")
            }
        }
        guard let form, let max = form.maxArguments else { return }
        let arguments = (action ?? "").isEmpty ? words : Array(words.dropFirst())
        guard arguments.count > max else { return }
        let extra = arguments[max]
        let command = action.flatMap { $0.isEmpty ? nil : "\(name) \($0)" } ?? name
        if max == 0 {
            throw .usage("\(command) takes no arguments, got '\(extra)'" + (vaultUse == .none ? "" : "; use --vault PATH to pick the vault"))
        }
        throw .usage("\(command) takes at most \(max == 1 ? "one argument" : "\(max) arguments") (\(form.arguments)), got '\(extra)' too; quote an argument that holds spaces")
    }
}
