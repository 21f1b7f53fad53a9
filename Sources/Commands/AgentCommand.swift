import AgentOS
import Foundation

enum AgentCommand {
    static let spec = CommandSpec(
        name: "agent",
        summary: "list the agents and their cooldowns, or end a cooldown",
        forms: [
            CommandForm(["list"], max: 0),
            CommandForm(["reset"], arguments: "NAME", max: 1),
        ],
        options: [
            .json("print the agents as JSON", actions: ["list"]),
        ],
        description: """
        An agent that reports a usage limit, a rate limit, an overload or a bad key cools down: routing
        skips it to the next agent of its failover chain until the reset time it printed, or for a
        back-off of 1 minute that doubles with each failure in a row (at most an hour). 'agent list'
        shows every agent and when a cooling one is available again; 'agent reset NAME' ends its
        cooldown at once (after a new key or a bigger plan).
        """,
        run: run
    )

    static func run(_ context: CommandContext) throws -> Int32 {
        let args = context.arguments.positionals
        switch args.first {
        case "reset":
            guard args.count == 2 else { throw CLIError.usage("'agent reset' needs the agent's name") }
            if let ended = try AgentCooldowns.reset(vault: context.vault, agent: args[1]) {
                context.console.print("\(ended.agent): cooldown ended (was: \(ended.failure.words), available again at \(Cooldown.clock(ended.until)))")
            } else {
                context.console.print("\(args[1]): not cooling down")
            }
            return 0
        default:
            let entries = try AgentCooldowns.list(vault: context.vault)
            // Whether each can run on this machine (its CLI on PATH, its server answering): a user
            // read "available" as "can run" for agents that were not installed (a tour).
            let book = RuleBook.load(vault: context.vault)
            let availability = AgentAvailability(environment: context.environment)
            let unusable = Dictionary(entries.map { entry in (entry.agent, book.agent(named: entry.agent).flatMap { availability.unavailableReason($0) }) }, uniquingKeysWith: { a, _ in a })
            if context.json {
                context.console.print(JSON.array(entries.map { entry in
                    JSON.object([
                        ("agent", .string(entry.agent)),
                        ("lane", .string(entry.lane.rawValue)),
                        ("available", .bool(entry.cooldown == nil)),
                        ("runs_here", .bool((unusable[entry.agent] ?? nil) == nil)),
                        ("not_usable", (unusable[entry.agent] ?? nil).map { .string($0) } ?? .null),
                        ("failure", entry.cooldown.map { .string($0.failure.rawValue) } ?? .null),
                        ("until", entry.cooldown.map { .string(LocalTime.dateTime($0.until)) } ?? .null),
                        ("reason", entry.cooldown.map { .string($0.reason) } ?? .null),
                    ])
                }).compact)
                return 0
            }
            let width = (entries.map(\.agent.count).max() ?? 6) + 2
            for entry in entries {
                let name = entry.agent.padding(toLength: width, withPad: " ", startingAt: 0)
                let lane = entry.lane.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
                if let cooldown = entry.cooldown {
                    context.console.print("\(name)\(lane)cooling down: \(cooldown.failure.words), available again at \(Cooldown.clock(cooldown.until)) — \(cooldown.reason)")
                } else if let why = unusable[entry.agent] ?? nil {
                    context.console.print("\(name)\(lane)cannot run here — \(why)")
                } else {
                    context.console.print("\(name)\(lane)available")
                }
            }
            return 0
        }
    }
}
