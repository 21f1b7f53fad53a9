import Foundation

/// One guardrail's judgement on a routing decision. `detail` never contains a secret.
public struct GuardVerdict: Sendable, Equatable {
    /// `privacy`, `secrets`, `effects` or `budget`.
    public let name: String
    /// Whether this guardrail lets the task run as decided (a reroute still passes; a block or a
    /// wait for review does not).
    public let passed: Bool
    /// One line saying what the guardrail found and did.
    public let detail: String

    /// A verdict; `detail` must be one line and must not quote a secret.
    public init(name: String, passed: Bool, detail: String) {
        self.name = name
        self.passed = passed
        self.detail = detail
    }
}

/// What happens to a routed task.
public enum RoutingAction: Sendable, Equatable {
    /// Start the agent.
    case run
    /// Wait for a person (`status: review`); the reason says what approving means.
    case review(String)
    /// Do not run (`status: blocked`); the reason says what to change.
    case blocked(String)

    /// `run`, `review` or `blocked` (the task status it leads to, for `run`: `routed`).
    public var name: String {
        switch self {
        case .run: return "run"
        case .review: return "review"
        case .blocked: return "blocked"
        }
    }

    /// Why the task waits or is blocked (`nil` for `.run`).
    public var reason: String? {
        switch self {
        case .run: return nil
        case .review(let r), .blocked(let r): return r
        }
    }
}

/// Where a task goes and why, with every guardrail's verdict. Produced by `Router.decide`.
public struct RoutingDecision: Sendable, Equatable {
    /// The lane the task runs in (after guardrails).
    public var lane: Lane
    /// The agent by name (`nil` when no agent applies: lane human, or no agent exists for the lane).
    public var agent: String?
    /// The model to ask for (`nil`: the agent's own default).
    public var model: String?
    /// The rule note's path that decided, or `explicit` (the task chose), or `default` (no rule matched).
    public var rule: String
    /// One line a person understands, naming the rule and anything a guardrail changed.
    public var reason: String
    /// Every guardrail's verdict, in the order they were applied.
    public var verdicts: [GuardVerdict]
    /// Run, wait for review, or blocked.
    public var action: RoutingAction
    /// The prompt to send when the secret guardrail redacted it (`nil`: send the prompt unchanged).
    public var outgoingPrompt: String?
    /// USD to reserve in the budget ledger before the run (0: no paid call, nothing to reserve).
    public var reservationUSD: Double
    /// The lane to fall back to if the reservation is refused (the rule's `fallback`).
    public var fallback: Lane?
    /// Whether a person approved the task.
    public var approved: Bool
    /// Whether that approval answered what the run may do — the human lane, or effects that need a
    /// person — so the agent starts without its read-only flags. An approval of a review for another
    /// reason (a cap used up, an agent cooling down) lets the task run, read-only: a budget review
    /// an agent's spend brought about, approved as `status` says, gave claude `acceptEdits` for a
    /// prompt the agent wrote (an outside attack).
    public var writesApproved: Bool = false
    /// The effects the task is taken to have: declared, those the matching rule implies, and those
    /// inferred from the task's own words (`EffectsInference`).
    public var effects: [String]

    /// The properties recorded on the task note: `route_lane`, `route_agent`, `route_rule`, `route_reason`.
    public var properties: [Property] {
        [
            Property("route_lane", .string(lane.rawValue)),
            Property("route_agent", agent.map { .string($0) } ?? .null),
            Property("route_rule", .string(rule)),
            Property("route_reason", .string(reason)),
        ]
    }

    /// The decision as JSON (for `route --json` and telemetry).
    public var json: JSON {
        .object([
            ("lane", .string(lane.rawValue)),
            ("agent", agent.map { .string($0) } ?? .null),
            ("model", model.map { .string($0) } ?? .null),
            ("rule", .string(rule)),
            ("reason", .string(reason)),
            ("action", .string(action.name)),
            ("action_reason", action.reason.map { .string($0) } ?? .null),
            ("verdicts", .array(verdicts.map { .object([("name", .string($0.name)), ("passed", .bool($0.passed)), ("detail", .string($0.detail))]) })),
            ("reservation_usd", .double(reservationUSD)),
            ("fallback", fallback.map { .string($0.rawValue) } ?? .null),
            ("approved", .bool(approved)),
            ("effects", .array(effects.map { .string($0) })),
            ("redacted", .bool(outgoingPrompt != nil)),
        ])
    }
}
