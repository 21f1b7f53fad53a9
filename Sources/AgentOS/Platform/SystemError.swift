#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call: the call's name, the path or subject it acted on, and `errno`.
///
/// Nothing outside `Platform/` reads `errno`; every raw call goes through `Syscall.check`.
public struct SystemError: Error, CustomStringConvertible, Equatable, Sendable {
    public let call: String
    public let subject: String
    public let code: Int32

    public var description: String {
        let reason = String(cString: strerror(code))
        return subject.isEmpty ? "\(call): \(reason)" : "\(call) \(subject): \(reason)"
    }

    public var isNotFound: Bool { code == ENOENT || code == ENOTDIR }
}

/// Thin wrappers around raw calls that turn `-1` + `errno` into a `SystemError`.
enum Syscall {
    /// Runs `body`, retrying on `EINTR`; a `-1` result becomes a `SystemError`.
    /// Not for `close`: after `EINTR` the descriptor state is unspecified on Linux (close(2)), so never retry it.
    @discardableResult
    static func check<T: BinaryInteger>(_ call: String, _ subject: String = "", _ body: () -> T) throws(SystemError) -> T {
        while true {
            let result = body()
            if result == -1 {
                let code = errno
                if code == EINTR { continue }
                throw SystemError(call: call, subject: subject, code: code)
            }
            return result
        }
    }

    static func lastError(_ call: String, _ subject: String = "") -> SystemError {
        SystemError(call: call, subject: subject, code: errno)
    }
}
