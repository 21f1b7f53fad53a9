import Foundation

/// An agent that is resting after a usage limit, a rate limit, an overload or a key problem: routing
/// skips it to the next agent of the chain until `until` (`fuckbigtech agent reset NAME` ends it).
public struct Cooldown: Sendable, Equatable {
    /// The agent's name.
    public var agent: String
    /// When it may be used again.
    public var until: Date
    /// What it reported.
    public var failure: FailureClass
    /// The agent's own words, one line.
    public var reason: String
    /// How many failures in a row set it (the back-off doubles with each).
    public var strikes: Int
    /// When the current cooldown began.
    public var since: Date

    /// "claude: usage limit, available again at 18:40" (the date is added when it is not today).
    public var summary: String {
        "\(agent): \(failure.words), available again at \(Cooldown.clock(until))"
    }

    /// A time of day in local time, with the date when it is not today.
    public static func clock(_ date: Date, now: Date = Date()) -> String {
        let time = String(LocalTime.time(date).prefix(5))
        let day = LocalTime.day(date)
        return day == LocalTime.day(now) ? time : "\(day) \(time)"
    }
}

/// Cooldowns and failovers in the run store (`.agentos/runs.sqlite`): shared by every watcher and
/// `run` on the vault, and kept over restarts.
extension RunStore {
    /// The back-off when an agent names no reset time: 1 minute, doubling with each failure in a row.
    public static let firstBackOff: Double = 60
    /// The longest back-off.
    public static let maxBackOff: Double = 3_600
    /// The furthest ahead a reset time an agent prints is taken (a week).
    public static let longestReset: Double = 7 * 86_400

    /// Marks `agent` unavailable: until `resetAt` when the agent said when its limit resets (and that
    /// is still ahead), else for a back-off of 1 minute that doubles with each failure in a row (a
    /// failure within the last back-off counts as in a row), capped at an hour.
    @discardableResult
    public func coolDown(agent: String, failure: FailureClass, reason: String, resetAt: Date?, now: Date = Date()) throws -> Cooldown {
        try withDatabase { database in
            let previous = try database.query("SELECT until, strikes, since FROM cooldowns WHERE agent=?", [.text(agent)]) {
                (until: $0.double(0), strikes: $0.int(1), since: $0.double(2))
            }.first
            // A failure soon after the last cooldown ended is one in a row; a long quiet spell starts over.
            var strikes = 1
            var since = now.timeIntervalSince1970
            if let previous, now.timeIntervalSince1970 < previous.until + RunStore.maxBackOff {
                // Bounded: a row holding Int64.max overflowed here and stopped the watcher at every
                // start for an hour (an outside attack); past 20 the back-off is the longest anyway.
                strikes = min(max(previous.strikes, 0), 20) + 1
                if now.timeIntervalSince1970 < previous.until { since = previous.since }
            }
            let backOff = min(RunStore.maxBackOff, RunStore.firstBackOff * pow(2, Double(min(strikes - 1, 20))))
            var until = now.addingTimeInterval(backOff)
            // A printed reset time is taken up to a week ahead (Claude's weekly limit): an agent that
            // printed the year 2286 cooled itself down for centuries.
            if let resetAt, resetAt > now { until = min(resetAt, now.addingTimeInterval(RunStore.longestReset)) }
            try database.run("""
            INSERT INTO cooldowns(agent, until, failure, reason, strikes, since) VALUES(?,?,?,?,?,?)
            ON CONFLICT(agent) DO UPDATE SET until=excluded.until, failure=excluded.failure, reason=excluded.reason, strikes=excluded.strikes, since=excluded.since
            """, [.text(agent), .double(until.timeIntervalSince1970), .text(failure.rawValue), .text(reason), .int(Int64(strikes)), .double(since)])
            return Cooldown(agent: agent, until: until, failure: failure, reason: reason, strikes: strikes, since: Date(timeIntervalSince1970: since))
        }
    }

    /// Agents cooling down at `now`, soonest available first.
    public func cooldowns(now: Date = Date()) throws -> [Cooldown] {
        try withDatabase { database in
            try database.query("SELECT agent, until, failure, reason, strikes, since FROM cooldowns WHERE until > ? ORDER BY until", [.double(now.timeIntervalSince1970)]) {
                Cooldown(agent: $0.text(0), until: Date(timeIntervalSince1970: $0.double(1)), failure: FailureClass(rawValue: $0.text(2)) ?? .taskError,
                         reason: $0.text(3), strikes: $0.int(4), since: Date(timeIntervalSince1970: $0.double(5)))
            }
        }
    }

    /// The cooldown of one agent at `now`, if it is cooling down.
    public func cooldown(agent: String, now: Date = Date()) throws -> Cooldown? {
        try cooldowns(now: now).first { $0.agent.lowercased() == agent.lowercased() }
    }

    /// Ends an agent's cooldown and forgets its failures in a row; returns the cooldown it ended, if
    /// one was running.
    @discardableResult
    public func resetCooldown(agent: String, now: Date = Date()) throws -> Cooldown? {
        let current = try cooldown(agent: agent, now: now)
        try withDatabase { try $0.run("DELETE FROM cooldowns WHERE agent=?", [.text(agent)]) }
        return current
    }

    /// Records the handoff note a failed run's failover wrote.
    public func recordFailoverHandoff(runID: String, path: String) throws {
        try withDatabase { try $0.run("UPDATE runs SET handoff_path=? WHERE run_id=?", [.text(path), .text(runID)]) }
    }

    /// The failover handoff a failed run wrote (`recordFailoverHandoff`), if any.
    public func failoverHandoff(ofRun runID: String) throws -> String? {
        try withDatabase { try $0.query("SELECT handoff_path FROM runs WHERE run_id=?", [.text(runID)]) { $0.optionalText(0) }.first ?? nil }
    }

    /// Failed runs that chose the agent to fail over to but whose handoff note was not recorded yet
    /// (the process stopped in between): a restart writes them, exactly once.
    public func pendingFailovers() throws -> [RunRecord] {
        let ids = try withDatabase { database in
            try database.query("SELECT run_id FROM runs WHERE state='failed' AND failover_to IS NOT NULL AND handoff_path IS NULL") { $0.text(0) }
        }
        return try ids.compactMap { try run(id: $0) }
    }
}

/// A name `agent reset` was given that no agent note defines.
public struct AgentCooldownError: Error, CustomStringConvertible {
    /// One line.
    public let description: String
}

/// The agents of a vault with their cooldowns (`fuckbigtech agent list|reset`).
public enum AgentCooldowns {
    /// One agent and whether it is cooling down.
    public struct Entry: Sendable {
        /// The agent's name.
        public let agent: String
        /// Its lane.
        public let lane: Lane
        /// Its cooldown now, if it is cooling down.
        public let cooldown: Cooldown?
    }

    /// Every agent of the vault's catalogue with its cooldown now (and cooldowns of names the
    /// catalogue no longer has, so none hides).
    public static func list(vault: Vault, now: Date = Date()) throws -> [Entry] {
        let book = RuleBook.load(vault: vault)
        let cooling = try RunStore(vault: vault).cooldowns(now: now)
        var entries = book.agents.map { agent in
            Entry(agent: agent.name, lane: agent.lane, cooldown: cooling.first { $0.agent.lowercased() == agent.name.lowercased() })
        }
        for cooldown in cooling where book.agent(named: cooldown.agent) == nil {
            entries.append(Entry(agent: cooldown.agent, lane: .premium, cooldown: cooldown))
        }
        return entries
    }

    /// Ends `agent`'s cooldown (a person knows the limit is lifted: a new key, a bigger plan).
    /// Returns the cooldown it ended, or nil when the agent was not cooling down.
    public static func reset(vault: Vault, agent: String, now: Date = Date()) throws -> Cooldown? {
        let book = RuleBook.load(vault: vault)
        let store = try RunStore(vault: vault)
        guard let definition = book.agent(named: agent) else {
            // A cooldown left for a name no note defines any more can still be cleared.
            if let cooling = try store.cooldown(agent: agent, now: now) { return try store.resetCooldown(agent: cooling.agent, now: now) }
            let names = book.agents.map(\.name)
            let hint = names.isEmpty ? "" : " (agents: \(names.joined(separator: ", ")))"
            throw AgentCooldownError(description: "no agent named '\(agent)'\(hint)")
        }
        return try store.resetCooldown(agent: definition.name, now: now)
    }
}
