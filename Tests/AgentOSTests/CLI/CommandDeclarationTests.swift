import Foundation
import Testing
@testable import AgentOS
@testable import Commands

/// Each command declares its options once; `--help` is made from that declaration, and every
/// command turns away what it does not declare in the same way: exit 64, one line on stderr.
@Suite struct CommandDeclarationTests {
    func run(_ arguments: [String]) -> (code: Int32, out: String, err: String) {
        let (console, captured) = Console.capturing()
        let code = CLI.run(arguments, console: console, environment: [:], executablePath: "fuckbigtech")
        return (code, captured.stdout, captured.stderr)
    }

    /// The words a command is called with before its arguments: its name and, if it has actions, the first.
    func head(_ spec: CommandSpec, _ form: CommandForm) -> [String] {
        [spec.name] + form.actions.prefix(1)
    }

    /// Every `--option` and `-x` word in a text, leaving out quoted commands of other programs
    /// ('systemctl --user enable --now NAME', 'swift build -c release').
    func optionWords(in text: String) -> Set<String> {
        let ours = Set(["fuckbigtech"] + CLI.commands.flatMap { [$0.name] + $0.actions })
        var text = text
        let quotes = try! NSRegularExpression(pattern: "(?<=[\\s(])'([^'\\n]+)'")
        for match in quotes.matches(in: text, range: NSRange(text.startIndex..., in: text)).reversed() {
            guard let whole = Range(match.range, in: text), let inner = Range(match.range(at: 1), in: text),
                  let first = text[inner].split(separator: " ").first, !ours.contains(String(first)) else { continue }
            text.removeSubrange(whole)
        }
        let pattern = try! NSRegularExpression(pattern: "(?<![\\w-])(--[a-z][a-z-]*|-[a-z])(?![\\w-])")
        let range = NSRange(text.startIndex..., in: text)
        return Set(pattern.matches(in: text, range: range).compactMap { Range($0.range(at: 1), in: text).map { String(text[$0]) } })
    }

    @Test func helpListsEveryDeclaredOptionAndNothingElse() {
        for spec in CLI.commands {
            let result = run([spec.name, "--help"])
            #expect(result.code == 0)
            #expect(result.out == spec.help + "\n")
            let options = result.out.components(separatedBy: "\nOptions:\n").dropFirst().first ?? ""
            let common = result.out.components(separatedBy: "\nCommon options:\n").dropFirst().first ?? ""
            for option in spec.declared {
                #expect(options.contains("  " + option.label + " "), "\(spec.name) --help does not list \(option.label)")
            }
            for option in CLI.commonOptions where !spec.declared.contains(where: { $0.name == option.name }) {
                #expect(common.contains("  " + option.label + " "), "\(spec.name) --help does not list \(option.label)")
            }
            let declared = Set(spec.allOptions.flatMap { [$0.name] + ($0.short.map { [$0] } ?? []) })
            let mentioned = optionWords(in: result.out)
            #expect(mentioned.subtracting(declared).isEmpty, "\(spec.name) --help mentions undeclared \(mentioned.subtracting(declared).sorted())")
            #expect(declared.subtracting(mentioned).isEmpty, "\(spec.name) --help leaves out \(declared.subtracting(mentioned).sorted())")
        }
    }

    /// An outside test: `search "-draft notes"` was refused as "unknown option -draft notes",
    /// though the help said such a query may go in quotes. An argument whose name holds a space is
    /// text; one without is still an option.
    @Test func anArgumentWithASpaceIsNeverAnOption() throws {
        let parsed = try ParsedArguments.parse(["-draft notes", "--title=a b", "--x y=1"], flags: [], options: ["--title"], aliases: [:])
        #expect(parsed.positionals == ["-draft notes", "--x y=1"])
        #expect(parsed.values("--title") == ["a b"])
        #expect(throws: CLIError.self) { try ParsedArguments.parse(["-draft"], flags: [], options: [], aliases: [:]) }
    }

    /// `-n5`, as `head -n5` and `rg -m1` take a short option's number (a tour: "unknown option
    /// -n1"); a word after the letter is not a number, and stays what it was.
    @Test func aShortOptionTakesItsNumberAttached() throws {
        let parsed = try ParsedArguments.parse(["-n5", "tapirs"], flags: ["--json"], options: ["--limit"], aliases: ["-n": "--limit"])
        #expect(parsed.value("--limit") == "5")
        #expect(parsed.positionals == ["tapirs"])
        #expect(throws: CLIError.self) { try ParsedArguments.parse(["-nature"], flags: [], options: ["--limit"], aliases: ["-n": "--limit"]) }
        #expect(throws: CLIError.self) { try ParsedArguments.parse(["-j5"], flags: ["--json"], options: [], aliases: ["-j": "--json"]) }
        let search = run(["search", "-n1", "tapir", "--vault", "/nonexistent-\(UInt32.random(in: 0...UInt32.max))"])
        #expect(!search.err.contains("unknown option"), "\(search.err)")
    }

    @Test func everyCommandRejectsAnUnknownOptionInOneLine() {
        for spec in CLI.commands {
            for form in spec.forms {
                let result = run(head(spec, form) + ["--no-such-option"])
                #expect(result.code == 64, "\(spec.name)")
                #expect(result.out.isEmpty)
                #expect(result.err == "fuckbigtech \(spec.name): unknown option --no-such-option\n", "\(spec.name): \(result.err)")
            }
        }
        // A close miss gets the suggestion.
        #expect(run(["status", "--limt", "3"]).err == "fuckbigtech status: unknown option --limt; did you mean --limit?\n")
        #expect(run(["doctor", "--jsn"]).err == "fuckbigtech doctor: unknown option --jsn; did you mean --json?\n")
    }

    @Test func everyCommandRejectsAnExtraArgumentInOneLine() {
        var open: [String] = []
        for spec in CLI.commands {
            for form in spec.forms {
                guard let max = form.maxArguments else {
                    open.append(([spec.name] + form.actions).joined(separator: " "))
                    continue
                }
                let arguments = (0...max).map { "word\($0)" }
                let result = run(head(spec, form) + arguments)
                #expect(result.code == 64, "\(spec.name) \(arguments)")
                #expect(result.out.isEmpty)
                let lines = result.err.split(separator: "\n")
                #expect(lines.count == 1 && lines[0].hasPrefix("fuckbigtech \(spec.name): ") && lines[0].contains("'word\(max)'"), "\(spec.name): \(result.err)")
            }
        }
        // Only prompts, queries, task text, messages and property lists take any number of words.
        #expect(open.sorted() == ["handoff", "note set", "related", "route", "search", "task new"])
    }

    @Test func everyCommandWithActionsRejectsAMissingOrUnknownOneInOneLine() {
        let withActions = CLI.commands.filter { !$0.actions.isEmpty }
        #expect(withActions.map(\.name).sorted() == ["agent", "budget", "completion", "mcp", "memory-test", "note", "service", "skills", "task"])
        // `mcp` alone serves (its form without an action word); the others need one.
        for spec in withActions where !spec.forms.contains(where: \.actions.isEmpty) {
            let missing = run([spec.name])
            #expect(missing.code == 64 && missing.out.isEmpty)
            #expect(missing.err.hasPrefix("fuckbigtech \(spec.name): say '") && missing.err.split(separator: "\n").count == 1, "\(missing.err)")
            let unknown = run([spec.name, "zzzz"])
            #expect(unknown.code == 64 && unknown.out.isEmpty)
            #expect(unknown.err.hasPrefix("fuckbigtech \(spec.name): unknown action 'zzzz'; use '") && unknown.err.split(separator: "\n").count == 1, "\(unknown.err)")
        }
        #expect(run(["service", "instal"]).err == "fuckbigtech service: unknown action 'instal'; did you mean 'install'? use 'install', 'uninstall' or 'status'\n")
    }

    /// A command with a form without an action word beside its actions (`mcp` serves, `mcp install`
    /// registers): a near miss of an action is a did-you-mean, anything else an extra argument, and
    /// each form's options are refused in the other.
    @Test func aCommandThatAlsoRunsWithoutAnActionKeepsItsFormsApart() {
        #expect(run(["mcp", "instal", "claude"]).err == "fuckbigtech mcp: unknown action 'instal'; did you mean 'install'? use 'install' or 'uninstall'\n")
        let extra = run(["mcp", "zzzz"])
        #expect(extra.code == 64 && extra.out.isEmpty)
        #expect(extra.err.hasPrefix("fuckbigtech mcp: mcp takes no arguments, got 'zzzz'") && extra.err.split(separator: "\n").count == 1, "\(extra.err)")
        let print = run(["mcp", "--print"])
        #expect(print.code == 64 && print.err.hasPrefix("fuckbigtech mcp: --print is not an option of 'mcp';"), "\(print.err)")
        let agent = run(["mcp", "install", "claude", "--agent", "claude"])
        #expect(agent.code == 64 && agent.err.hasPrefix("fuckbigtech mcp: --agent is not an option of 'mcp install';"), "\(agent.err)")
    }

    @Test func anOptionOfAnotherActionIsRejected() {
        let result = run(["service", "status", "--print"])
        #expect(result.code == 64)
        #expect(result.err == "fuckbigtech service: --print is not an option of 'service status'; see 'fuckbigtech service --help'\n")
        #expect(run(["note", "show", "x.md", "--create"]).code == 64)
    }

    @Test func benchDocumentsOnlyAsTheSameAsSections() {
        let bench = CLI.commands.first { $0.name == "bench" }!
        #expect(bench.help.contains("--only LIST"))
        #expect(bench.options.contains("--only"))
    }
}
