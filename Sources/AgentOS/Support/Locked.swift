import Foundation

/// A value that several threads share, reached only through `withLock`.
///
/// `@unchecked Sendable` is sound because the value is private and every read and write of it
/// happens inside `withLock`, while the `NSLock` is held; nothing can reach it any other way.
public final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    /// Wraps `value`; from here on it is reached only through `withLock`.
    public init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` with the value while holding the lock; what `body` changes is kept.
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
