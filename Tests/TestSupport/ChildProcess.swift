import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a finished child process left: its exit status and everything it printed.
public struct ProcessOutcome: Sendable {
    /// The exit code, or the signal number when `signalled`.
    public let code: Int32
    /// Whether a signal ended it.
    public let signalled: Bool
    /// Standard output.
    public let stdout: String
    /// Standard error.
    public let stderr: String
    /// Whether it outlived its deadline and was killed.
    public let timedOut: Bool
}

/// A real process the tests start: the binary under test, a shell, python3, a copy of the test
/// runner. Output goes to files in a temp folder of its own (no pipe can fill up and block the
/// child, nothing needs draining), readable at any time. The one way the tests run a program.
public final class ChildProcess: @unchecked Sendable {
    /// What the child reads on standard input.
    public enum Input: Sendable {
        /// `/dev/null`.
        case none
        /// This text, then end of file.
        case text(String)
        /// A pipe held open until `closeInput()` (for children that run until their stdin closes).
        case pipe
    }

    /// The child's process id.
    public let pid: Int32
    /// The file standard output goes to.
    public let stdoutPath: String
    /// The file standard error goes to.
    public let stderrPath: String

    private let process = Process()
    private let exited = DispatchSemaphore(value: 0)
    private let scratch = TemporaryFolder("fbt-child")
    private var inputPipe: Pipe?

    /// Starts `executable` with `arguments`. `environment` nil inherits the test's own;
    /// `directory` nil keeps the test's working directory.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil, input: Input = .none) throws {
        stdoutPath = scratch.path + "/stdout"
        stderrPath = scratch.path + "/stderr"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        guard let out = FileHandle(forWritingAtPath: stdoutPath), let err = FileHandle(forWritingAtPath: stderrPath) else {
            throw TestSupportError("cannot open the output files in \(scratch.path)")
        }
        defer { try? out.close(); try? err.close() }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var inputHandle: FileHandle?
        switch input {
        case .none:
            process.standardInput = FileHandle.nullDevice
        case .text(let text):
            let inputPath = scratch.path + "/stdin"
            guard FileManager.default.createFile(atPath: inputPath, contents: Data(text.utf8)), let handle = FileHandle(forReadingAtPath: inputPath) else {
                throw TestSupportError("cannot write the input file in \(scratch.path)")
            }
            inputHandle = handle
            process.standardInput = handle
        case .pipe:
            let pipe = Pipe()
            inputPipe = pipe
            process.standardInput = pipe
        }
        defer { try? inputHandle?.close() }
        process.standardOutput = out
        process.standardError = err
        let exited = self.exited
        process.terminationHandler = { _ in exited.signal() }
        do { try process.run() } catch {
            throw TestSupportError("cannot start \(executable): \(error)")
        }
        pid = process.processIdentifier
    }

    deinit {
        if process.isRunning {
            kill(pid, SIGKILL)
            _ = exited.wait(timeout: .now() + 10)
        }
        try? inputPipe?.fileHandleForWriting.close()
    }

    /// Runs a program to its end and returns what it printed. Past `timeout` seconds it is killed
    /// and the outcome says `timedOut`.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil, input: Input = .none, timeout: Double = 60) throws -> ProcessOutcome {
        try ChildProcess(executable, arguments, environment: environment, directory: directory, input: input).finish(timeout: timeout)
    }

    /// Whether the child is still running.
    public var isRunning: Bool { process.isRunning }

    /// Standard output so far.
    public var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }

    /// Standard error so far.
    public var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Sends `signal` to the child.
    public func signal(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Closes the `.pipe` input, so a child reading to end of file goes on or stops.
    public func closeInput() {
        try? inputPipe?.fileHandleForWriting.close()
    }

    /// Waits up to `seconds` for the child to exit; says whether it did.
    public func wait(seconds: Double) -> Bool {
        guard exited.wait(timeout: .now() + seconds) == .success else { return false }
        // Let a later `wait` or `finish` see the exit too.
        exited.signal()
        return true
    }

    /// How the child ended (valid once `wait` said it exited).
    public var terminationReason: Process.TerminationReason { process.terminationReason }

    /// The exit status or, when a signal ended it, the signal number (valid once it exited).
    public var terminationStatus: Int32 { process.terminationStatus }

    /// The first line the child printed on standard output, waiting up to `seconds` for it
    /// (for servers that print the port they listen on).
    public func firstLine(within seconds: Double) throws -> String {
        var line: String?
        let printed = eventually(within: seconds, every: 0.01) {
            let text = stdout
            guard let end = text.firstIndex(of: "\n") else { return !isRunning }
            line = String(text[..<end])
            return true
        }
        guard printed, let line else {
            throw TestSupportError("the child printed no line within \(seconds) s (running: \(isRunning)): \(stderr.suffix(500))")
        }
        return line
    }

    /// Waits for the child to exit; past `timeout` seconds kills it. Returns what it printed.
    public func finish(timeout: Double) -> ProcessOutcome {
        var timedOut = false
        if !wait(seconds: timeout) {
            timedOut = true
            kill(pid, SIGKILL)
            _ = wait(seconds: 10)
        }
        return ProcessOutcome(
            code: process.terminationStatus,
            signalled: process.terminationReason == .uncaughtSignal,
            stdout: stdout,
            stderr: stderr,
            timedOut: timedOut
        )
    }
}
