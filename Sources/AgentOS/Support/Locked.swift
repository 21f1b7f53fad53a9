import Foundation

/// A value that several threads share, reached only through `withLock`.
///
/// `@unchecked Sendable` because the compiler cannot see the lock: every access to `value` happens
/// inside `withLock`, while `lock` is held, so no two threads ever touch it at once.
public final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    /// Wraps `value`; from now on it is reached only through `withLock`.
    public init(_ value: Value) { self.value = value }

    /// Runs `body` with the value while holding the lock, and returns what `body` returns.
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
