extension Int {
    /// `value` rounded toward zero, held within ±`Int.boundedLimit` (NaN: 0). `Int(_:)` traps on a
    /// value past `Int`'s range, on infinity and on NaN; figures read from notes and files another
    /// machine (or a person) wrote — a heartbeat's time, a lease, a telemetry cell — go through
    /// this before they become an `Int` (an outside attack: `updated_epoch: -1e23` in a machine's
    /// heartbeat note stopped `status` on every machine of the vault).
    public init(bounded value: Double) {
        guard !value.isNaN else {
            self = 0
            return
        }
        self = Int(Swift.min(Swift.max(value, -Int.boundedLimit), Int.boundedLimit))
    }

    /// The largest figure `init(bounded:)` gives: 10^15, far past any count or duration the OS
    /// keeps, and far inside `Int`.
    public static let boundedLimit = 1e15
}
