import Foundation

/// A flag another thread can raise to stop work (a running agent, a spawned process).
/// Safe from any thread; cancelling twice is harmless.
public final class CancelToken: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    private var handlers: [@Sendable () -> Void] = []

    public init() {}

    public var isCancelled: Bool { lock.withLock { cancelled } }

    /// Raises the flag and runs the registered handlers once.
    public func cancel() {
        let toRun: [@Sendable () -> Void] = lock.withLock {
            if cancelled { return [] }
            cancelled = true
            defer { handlers.removeAll() }
            return handlers
        }
        toRun.forEach { $0() }
    }

    /// Runs `handler` on cancel (at once if already cancelled).
    public func onCancel(_ handler: @escaping @Sendable () -> Void) {
        let runNow: Bool = lock.withLock {
            if cancelled { return true }
            handlers.append(handler)
            return false
        }
        if runNow { handler() }
    }
}

