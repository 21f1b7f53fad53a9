import Foundation

/// A flag another thread can raise to stop work (a running agent, a spawned process).
/// Safe from any thread; cancelling twice is harmless.
public final class CancelToken: Sendable {
    /// The flag, and the handlers still to run when it is raised.
    private let state = Locked<(cancelled: Bool, handlers: [@Sendable () -> Void])>((false, []))

    /// A token not yet cancelled.
    public init() {}

    /// Whether `cancel()` has been called.
    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Raises the flag and runs the registered handlers once.
    public func cancel() {
        let toRun: [@Sendable () -> Void] = state.withLock { state in
            if state.cancelled { return [] }
            state.cancelled = true
            defer { state.handlers.removeAll() }
            return state.handlers
        }
        toRun.forEach { $0() }
    }

    /// Runs `handler` on cancel (at once if already cancelled).
    public func onCancel(_ handler: @escaping @Sendable () -> Void) {
        let runNow: Bool = state.withLock { state in
            if state.cancelled { return true }
            state.handlers.append(handler)
            return false
        }
        if runNow { handler() }
    }
}

