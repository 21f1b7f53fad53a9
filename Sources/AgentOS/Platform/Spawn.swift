#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Runs a program without a shell and collects its output safely.
///
/// - argv only; the program name is resolved against the child's `PATH` here, never by a shell.
/// - The child leads its own process group (`POSIX_SPAWN_SETPGROUP`), so timeouts and cancellation
///   reach its grandchildren too, and Ctrl-C in our terminal does not hit it directly.
/// - stdin is a pipe carrying the given bytes, or `/dev/null`.
/// - stdout and stderr are drained together in one `poll` loop from the start (waiting for the exit
///   first deadlocks as soon as a pipe fills); stdout keeps its first `stdoutLimit` bytes, stderr its
///   last `stderrLimit` bytes, and the rest is read and dropped, so a flood costs neither memory nor a hang.
/// - Timeout or cancel: SIGTERM to the group, `terminationGrace` seconds, then SIGKILL to the group.
/// - When the child exits, anything left in its group is killed before the child is reaped (the
///   zombie keeps the group id reserved, so the kill cannot hit a recycled id); no zombies remain.
/// - Working directory: `posix_spawn_file_actions_addchdir_np` (glibc ≥ 2.29), looked up with `dlsym`
///   because Swift's Glibc module hides it. Without it a working directory is refused with a clear error
///   rather than worked around with a shell or a `chdir` in our own (multi-threaded) process.
///
/// The first call ignores `SIGPIPE` in this process (children get the default back), so that writing a
/// prompt to a child that has exited reports `EPIPE` instead of killing us.
public enum Spawn {
    /// What to feed the child's stdin.
    public enum Input: Sendable, Equatable {
        /// `/dev/null`.
        case none
        /// These bytes through a pipe, then EOF.
        case bytes([UInt8])
    }

    /// Everything that describes one run.
    public struct Options: Sendable {
        /// A program name (looked up in the child's `PATH`) or a path containing `/`.
        public var executable: String
        /// Arguments after the program name (`argv[1...]`).
        public var arguments: [String]
        /// The child's whole environment (see `Spawn.environment(allowing:from:extras:)`).
        public var environment: [String: String]
        /// The child's working directory (`nil`: ours).
        public var workingDirectory: String?
        public var input: Input
        /// Seconds until the group gets SIGTERM (`nil`: no limit).
        public var timeout: Double?
        /// Seconds between SIGTERM and SIGKILL.
        public var terminationGrace: Double
        /// Bytes of stdout kept (the first ones).
        public var stdoutLimit: Int
        /// Bytes of stderr kept (the last ones).
        public var stderrLimit: Int
        /// Lets another thread stop the run.
        public var cancel: CancelToken?
        /// Called with the child's pid (also its process group) as soon as it runs.
        public var onStart: (@Sendable (Int32) -> Void)?
        /// A descriptor the kept stdout bytes are also written to as they arrive (`-1`: none), so
        /// that what a child printed outlives a crash of ours (`AgentOutputCopy`).
        public var stdoutCopy: Int32 = -1

        public init(
            executable: String, arguments: [String] = [], environment: [String: String] = [:],
            workingDirectory: String? = nil, input: Input = .none, timeout: Double? = nil,
            terminationGrace: Double = 2, stdoutLimit: Int = 16 << 20, stderrLimit: Int = 64 << 10,
            cancel: CancelToken? = nil
        ) {
            self.executable = executable
            self.arguments = arguments
            self.environment = environment
            self.workingDirectory = workingDirectory
            self.input = input
            self.timeout = timeout
            self.terminationGrace = terminationGrace
            self.stdoutLimit = stdoutLimit
            self.stderrLimit = stderrLimit
            self.cancel = cancel
        }
    }

    /// How the child ended.
    public enum Termination: Equatable, Sendable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        public var description: String {
            switch self {
            case .exited(let code): return "exit status \(code)"
            case .signaled(let signal): return "killed by signal \(signal) (\(Spawn.signalName(signal)))"
            }
        }
    }

    /// What a finished run produced.
    public struct Result: Sendable {
        /// The absolute path that was executed.
        public var executablePath: String
        /// The child's process id (reaped by the time this is returned).
        public var pid: Int32
        public var termination: Termination
        /// The first `stdoutLimit` bytes of stdout.
        public var stdout: [UInt8]
        /// All bytes the child wrote to stdout, kept or not.
        public var stdoutTotalBytes: Int
        /// The last `stderrLimit` bytes of stderr.
        public var stderrTail: [UInt8]
        public var stderrTotalBytes: Int
        /// Wall time from spawn to reaping, in seconds (monotonic clock).
        public var duration: Double
        /// The timeout fired.
        public var timedOut: Bool
        /// The cancel token fired.
        public var cancelled: Bool

        /// Stdout was longer than the limit.
        public var isStdoutTruncated: Bool { stdoutTotalBytes > stdout.count }
        /// Stderr was longer than the limit.
        public var isStderrTruncated: Bool { stderrTotalBytes > stderrTail.count }
        /// The exit code when the child exited normally.
        public var exitCode: Int32? { if case .exited(let c) = termination { return c }; return nil }
        /// The signal when a signal killed the child.
        public var signal: Int32? { if case .signaled(let s) = termination { return s }; return nil }
    }

    /// Why a program could not be started.
    public enum SpawnError: Error, CustomStringConvertible, Equatable, Sendable {
        /// No such program on `PATH` (or at the given path).
        case executableNotFound(name: String, searchPath: String)
        /// The file exists but is not an executable regular file.
        case notExecutable(path: String)
        /// The working directory does not exist or is not a directory.
        case badWorkingDirectory(path: String, reason: String)
        /// This C library cannot set a child's working directory without a shell.
        case workingDirectoryUnsupported
        /// A system call failed.
        case system(SystemError)

        public var description: String {
            switch self {
            case .executableNotFound(let name, let searchPath):
                if name.contains("/") { return "\(name): no such program" }
                return "\(name): not found on PATH (\(searchPath.isEmpty ? "PATH is empty" : searchPath))"
            case .notExecutable(let path): return "\(path): not an executable file"
            case .badWorkingDirectory(let path, let reason): return "working directory \(path): \(reason)"
            case .workingDirectoryUnsupported:
                return "this C library lacks posix_spawn_file_actions_addchdir_np (glibc 2.29+), so a working directory cannot be set"
            case .system(let error): return error.description
            }
        }
    }

    /// Builds a child environment from an allow-list: `PATH` and `HOME` always, plus `names`, copied
    /// from `source` when present; then `extras` on top.
    public static func environment(allowing names: [String], from source: [String: String], extras: [String: String] = [:]) -> [String: String] {
        var result: [String: String] = [:]
        for name in ["PATH", "HOME"] + names {
            if let value = source[name] { result[name] = value }
        }
        for (key, value) in extras { result[key] = value }
        return result
    }

    /// Finds a program the way `execvp` would, but never in the current directory through an empty or
    /// relative `PATH` entry: a name with `/` is taken as a path (made absolute); otherwise the first
    /// executable regular file named so in `searchPath`'s absolute entries.
    public static func resolveExecutable(_ name: String, searchPath: String) throws(SpawnError) -> String {
        if name.isEmpty { throw .executableNotFound(name: name, searchPath: searchPath) }
        if name.contains("/") {
            let path = name.hasPrefix("/") ? name : FileManager.default.currentDirectoryPath + "/" + name
            try checkExecutable(path, name: name, searchPath: searchPath)
            return path
        }
        for entry in searchPath.split(separator: ":") where entry.hasPrefix("/") {
            let candidate = entry + "/" + name
            if isExecutableFile(candidate) { return candidate }
        }
        throw .executableNotFound(name: name, searchPath: searchPath)
    }

    static func isExecutableFile(_ path: String) -> Bool {
        var st = stat()
        // stat, not lstat: programs on PATH are often symlinks (node CLIs, venvs).
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return false }
        return access(path, X_OK) == 0
    }

    static func checkExecutable(_ path: String, name: String, searchPath: String) throws(SpawnError) {
        var st = stat()
        if stat(path, &st) != 0 { throw .executableNotFound(name: name, searchPath: searchPath) }
        if (st.st_mode & S_IFMT) != S_IFREG || access(path, X_OK) != 0 { throw .notExecutable(path: path) }
    }

    /// `SIGPIPE` is ignored once per process (see the type's documentation).
    static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    /// Runs the program to completion (or timeout/cancel) and returns what it did.
    public static func run(_ options: Options) throws(SpawnError) -> Result {
        _ = ignoreSIGPIPE
        let searchPath = options.environment["PATH"] ?? ""
        let path = try resolveExecutable(options.executable, searchPath: searchPath)
        if let directory = options.workingDirectory {
            var st = stat()
            if stat(directory, &st) != 0 {
                throw .badWorkingDirectory(path: directory, reason: String(cString: strerror(errno)))
            }
            if (st.st_mode & S_IFMT) != S_IFDIR { throw .badWorkingDirectory(path: directory, reason: "not a directory") }
            if Symbols.addChdir == nil { throw .workingDirectoryUnsupported }
        }

        var child: SpawnedChild
        do {
            child = try SpawnedChild.start(path: path, options: options)
        } catch {
            throw .system(error)
        }
        liveGroups.withLock { _ = $0.insert(child.pid) }
        options.onStart?(child.pid)
        let result = child.collect(options: options, executablePath: path)
        // The process is exiting at once (`stopAllAtOnce`): a child that ended because we stopped
        // it is not to be acted on — its run is left as a crash leaves it, for the next start.
        while exitingAtOnce.withLock({ $0 }) { sleep(60) }
        return result
    }

    /// The process groups of children `run` started and has not reaped yet.
    static let liveGroups = Locked<Set<Int32>>([])
    /// Set by `stopAllAtOnce`.
    static let exitingAtOnce = Locked(false)

    /// Sends `signal` to the process group of every child `run` has not reaped yet. A group is taken
    /// out of the set before its leader is reaped, under the same lock, so a pid freed for reuse is
    /// never signalled.
    static func signalLiveGroups(_ signal: Int32) {
        liveGroups.withLock { groups in for group in groups { kill(-group, signal) } }
    }

    /// For a process about to exit at once (a second Ctrl-C): stops the process groups of the
    /// children `run` started — SIGTERM, then SIGKILL 0.3 s later for one that ignores it — instead
    /// of leaving them to run (and spend) with nobody reading them (rounds 154, 155), and keeps the
    /// threads waiting on them from going on: a run whose agent died of it is not recorded as a
    /// crash of its own (round 156: a read-only task was failed instead of re-queued, an answer
    /// its agent had printed thrown away as "killed by SIGTERM"). Returns when they are stopped;
    /// the caller exits.
    public static func stopAllAtOnce() {
        exitingAtOnce.withLock { $0 = true }
        signalLiveGroups(SIGTERM)
        usleep(300_000)
        signalLiveGroups(SIGKILL)
    }

    /// Starts the program in the background and returns at once (for a long-lived child such as the
    /// bench's watcher). Unlike `run`, the child stays in our process group, so a Ctrl-C that stops us
    /// stops it too; stdout and stderr go together into one pipe whose read end the caller reads
    /// (`Child.output`); stdin is `/dev/null`. `timeout`, `cancel`, `input` and the output limits of
    /// `options` do not apply: the caller decides when the child stops.
    public static func start(_ options: Options) throws(SpawnError) -> Child {
        _ = ignoreSIGPIPE
        let path = try resolveExecutable(options.executable, searchPath: options.environment["PATH"] ?? "")
        let output: (read: Int32, write: Int32)
        do { output = try Descriptor.makePipe() } catch { throw .system(error) }
        var pid: pid_t = 0
        let status = posixSpawn(&pid, path: path, options: options, stdin: nil, stdout: output.write, stderr: output.write, newProcessGroup: false)
        Descriptor.close(output.write)
        if status != 0 {
            Descriptor.close(output.read)
            throw .system(SystemError(call: "posix_spawn", subject: path, code: status))
        }
        return Child(pid: pid, output: output.read)
    }

    /// A child started by `start`. A thread of its own reaps it as soon as it exits, so it never
    /// stays a zombie and `waitForExit` wakes on the exit itself, not on a polling tick.
    public final class Child: Sendable {
        /// The child's process id.
        public let pid: Int32
        /// The read end of the pipe holding the child's stdout and stderr; the caller reads it (it
        /// ends when the child and everything that inherited the pipe are gone) and closes it.
        public let output: Int32
        /// How the child ended, once it has; signalled when it is set.
        private let ended = NSCondition()
        private let state = Locked<Termination?>(nil)

        fileprivate init(pid: Int32, output: Int32) {
            self.pid = pid
            self.output = output
            let reaper = Thread { [pid, ended, state] in
                // Learn of the exit without reaping, then reap under the lock `send` takes: a pid is
                // never signalled after it was freed for reuse.
                var info = siginfo_t()
                while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
                ended.lock()
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                let low = status & 0x7f
                let termination: Termination = low == 0 ? .exited((status >> 8) & 0xff) : .signaled(low)
                state.withLock { $0 = termination }
                ended.broadcast()
                ended.unlock()
            }
            reaper.start()
        }

        /// How the child ended, or `nil` while it runs.
        public var termination: Termination? { state.withLock { $0 } }

        /// Sends `signal` to the child (not to its process group), unless it has already been reaped.
        public func send(_ signal: Int32) {
            ended.lock()
            defer { ended.unlock() }
            // Under the lock the reaper cannot reap in between, so the pid cannot have been reused.
            if state.withLock({ $0 }) == nil { kill(pid, signal) }
        }

        /// Waits up to `timeout` seconds for the child to end; its termination, or `nil` if it still runs.
        public func waitForExit(timeout: Double) -> Termination? {
            let deadline = Date(timeIntervalSinceNow: timeout)
            ended.lock()
            defer { ended.unlock() }
            while state.withLock({ $0 }) == nil {
                if !ended.wait(until: deadline) { break }
            }
            return state.withLock { $0 }
        }
    }

    /// Writes all of `bytes` to a regular file, giving up on an error (a full disk loses the copy,
    /// never the run).
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { return }
        }
    }

    /// A readable name for a signal number ("SIGKILL").
    public static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGHUP: return "SIGHUP"
        case SIGINT: return "SIGINT"
        case SIGQUIT: return "SIGQUIT"
        case SIGILL: return "SIGILL"
        case SIGABRT: return "SIGABRT"
        case SIGBUS: return "SIGBUS"
        case SIGFPE: return "SIGFPE"
        case SIGKILL: return "SIGKILL"
        case SIGSEGV: return "SIGSEGV"
        case SIGPIPE: return "SIGPIPE"
        case SIGALRM: return "SIGALRM"
        case SIGTERM: return "SIGTERM"
        case SIGUSR1: return "SIGUSR1"
        case SIGUSR2: return "SIGUSR2"
        default: return "signal \(signal)"
        }
    }
}

extension Spawn {
    /// `posix_spawn` with the rules every child of ours gets: stdin from `stdin` (or `/dev/null`),
    /// stdout and stderr onto the given descriptors, no other descriptor of ours, default signal
    /// dispositions and an empty signal mask (a child of a worker thread would otherwise inherit its
    /// blocked signals and never see SIGTERM), and its own process group when `newProcessGroup`.
    /// Returns `posix_spawn`'s status (0 on success).
    fileprivate static func posixSpawn(_ pid: inout pid_t, path: String, options: Options, stdin: Int32?, stdout: Int32, stderr: Int32, newProcessGroup: Bool) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdin {
            posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        // dup2 clears FD_CLOEXEC on 0-2; everything else is closed so that no descriptor of ours (another
        // run's pipe, the index database) leaks into the child.
        if let closeFrom = Symbols.addCloseFrom { _ = closeFrom(&actions, 3) }
        if let directory = options.workingDirectory, let addChdir = Symbols.addChdir {
            _ = directory.withCString { addChdir(&actions, $0) }
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in SpawnedChild.defaultSignals { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK
        if newProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = [path] + options.arguments
        let envp = options.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return withCStrings(argv) { argvPointers in
            withCStrings(envp) { envPointers in
                if Symbols.pipe2 == nil {
                    // Without pipe2 a pipe gets FD_CLOEXEC a moment after it is made: never spawn in between.
                    return Descriptor.spawnLock.withLock { _ in posix_spawn(&pid, path, &actions, &attributes, argvPointers, envPointers) }
                }
                return posix_spawn(&pid, path, &actions, &attributes, argvPointers, envPointers)
            }
        }
    }
}

/// One running child and the parent's ends of its pipes.
private struct SpawnedChild {
    let pid: pid_t
    var stdinFD: Int32
    var stdoutFD: Int32
    var stderrFD: Int32
    var pendingInput: [UInt8]
    let started: Double

    // Signals whose disposition the child gets back to default: an ignored signal survives exec.
    static let defaultSignals: [Int32] = [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM, SIGTSTP, SIGTTIN, SIGTTOU, SIGXFSZ]

    static func start(path: String, options: Spawn.Options) throws(SystemError) -> SpawnedChild {
        let stdinPipe: (read: Int32, write: Int32)?
        if case .bytes = options.input { stdinPipe = try Descriptor.makePipe() } else { stdinPipe = nil }
        let stdoutPipe: (read: Int32, write: Int32)
        let stderrPipe: (read: Int32, write: Int32)
        do {
            stdoutPipe = try Descriptor.makePipe()
        } catch {
            if let p = stdinPipe { Descriptor.close(p.read); Descriptor.close(p.write) }
            throw error
        }
        do {
            stderrPipe = try Descriptor.makePipe()
        } catch {
            if let p = stdinPipe { Descriptor.close(p.read); Descriptor.close(p.write) }
            Descriptor.close(stdoutPipe.read); Descriptor.close(stdoutPipe.write)
            throw error
        }

        var pid: pid_t = 0
        let status = Spawn.posixSpawn(&pid, path: path, options: options, stdin: stdinPipe?.read, stdout: stdoutPipe.write, stderr: stderrPipe.write, newProcessGroup: true)
        // The child holds its own copies now.
        if let p = stdinPipe { Descriptor.close(p.read) }
        Descriptor.close(stdoutPipe.write)
        Descriptor.close(stderrPipe.write)
        if status != 0 {
            if let p = stdinPipe { Descriptor.close(p.write) }
            Descriptor.close(stdoutPipe.read)
            Descriptor.close(stderrPipe.read)
            throw SystemError(call: "posix_spawn", subject: path, code: status)
        }
        var input: [UInt8] = []
        if case .bytes(let bytes) = options.input { input = bytes }
        let child = SpawnedChild(
            pid: pid, stdinFD: stdinPipe?.write ?? -1, stdoutFD: stdoutPipe.read, stderrFD: stderrPipe.read,
            pendingInput: input, started: Descriptor.monotonicSeconds()
        )
        try? Descriptor.setNonBlocking(child.stdoutFD)
        try? Descriptor.setNonBlocking(child.stderrFD)
        if child.stdinFD >= 0 { try? Descriptor.setNonBlocking(child.stdinFD) }
        return child
    }

    /// The poll loop: feeds stdin, drains both outputs, enforces timeout and cancel, reaps the child.
    mutating func collect(options: Spawn.Options, executablePath: String) -> Spawn.Result {
        var stdout: [UInt8] = []
        var stdoutTotal = 0
        var stderr: [UInt8] = []
        var stderrTotal = 0
        var inputOffset = 0
        var timedOut = false
        var cancelled = false
        var termSentAt: Double?
        var killSent = false
        var exitedAt: Double?
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { buffer.deallocate() }

        if stdinFD >= 0 && pendingInput.isEmpty { Descriptor.close(stdinFD); stdinFD = -1 }

        while true {
            let now = Descriptor.monotonicSeconds()
            // Timeout and cancel: TERM the group once, KILL it after the grace period.
            if termSentAt == nil {
                if let timeout = options.timeout, now - started >= timeout {
                    timedOut = true
                } else if options.cancel?.isCancelled == true {
                    cancelled = true
                }
                if timedOut || cancelled {
                    kill(-pid, SIGTERM)
                    termSentAt = now
                }
            } else if !killSent, let t = termSentAt, now - t >= options.terminationGrace {
                kill(-pid, SIGKILL)
                killSent = true
            }
            if exitedAt == nil && hasExited() { exitedAt = now }
            let outputsOpen = stdoutFD >= 0 || stderrFD >= 0
            if let e = exitedAt {
                // The leader is gone. Whatever still holds the pipes is a leftover in its group: give it the
                // grace period to finish writing, then kill it so the pipes close.
                if !outputsOpen { break }
                if !killSent && now - e >= options.terminationGrace {
                    kill(-pid, SIGKILL)
                    killSent = true
                }
                if killSent && now - e >= options.terminationGrace * 2 + 1 { break }
            }

            if exitedAt == nil && !outputsOpen && stdinFD < 0 && options.timeout == nil && options.cancel == nil {
                // Nothing left to read, feed, time or cancel: wait for the exit itself, not for a tick.
                var info = siginfo_t()
                while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
                continue
            }

            var interests: [(fd: Int32, interest: Descriptor.Readiness)] = []
            if stdoutFD >= 0 { interests.append((stdoutFD, .readable)) }
            if stderrFD >= 0 { interests.append((stderrFD, .readable)) }
            if stdinFD >= 0 { interests.append((stdinFD, .writable)) }
            // Short ticks so that exit, timeout and cancel are noticed promptly even without output.
            let ready = (try? Descriptor.poll(interests, timeout: interests.isEmpty ? 0.01 : 0.02)) ?? []
            for (index, item) in interests.enumerated() where index < ready.count && !ready[index].isEmpty {
                if item.fd == stdinFD {
                    feedInput(&inputOffset)
                    continue
                }
                // Read until the pipe is empty so a fast writer cannot outrun us between polls.
                var drained = false
                while !drained {
                    let result = (try? Descriptor.read(item.fd, into: buffer)) ?? .endOfFile
                    switch result {
                    case .bytes(let n):
                        let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
                        if item.fd == stdoutFD {
                            stdoutTotal += n
                            let room = options.stdoutLimit - stdout.count
                            if room > 0 {
                                stdout.append(contentsOf: chunk.prefix(room))
                                if options.stdoutCopy >= 0 { Spawn.writeAll(options.stdoutCopy, UnsafeRawBufferPointer(rebasing: chunk.prefix(room))) }
                            }
                        } else {
                            stderrTotal += n
                            stderr.append(contentsOf: chunk)
                            if stderr.count > options.stderrLimit * 2 || stderr.count > options.stderrLimit + (1 << 20) {
                                stderr.removeFirst(stderr.count - options.stderrLimit)
                            }
                        }
                        if n < buffer.count { drained = true }
                    case .wouldBlock:
                        drained = true
                    case .endOfFile:
                        Descriptor.close(item.fd)
                        if item.fd == stdoutFD { stdoutFD = -1 } else { stderrFD = -1 }
                        drained = true
                    }
                }
            }
        }
        if stdinFD >= 0 { Descriptor.close(stdinFD); stdinFD = -1 }
        if stdoutFD >= 0 { Descriptor.close(stdoutFD); stdoutFD = -1 }
        if stderrFD >= 0 { Descriptor.close(stderrFD); stderrFD = -1 }
        // Leftovers of the group die before the leader is reaped; ESRCH (none left) is fine.
        kill(-pid, SIGKILL)
        _ = Spawn.liveGroups.withLock { $0.remove(pid) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if stderr.count > options.stderrLimit { stderr.removeFirst(stderr.count - options.stderrLimit) }
        let low = status & 0x7f
        let termination: Spawn.Termination = low == 0 ? .exited((status >> 8) & 0xff) : .signaled(low)
        return Spawn.Result(
            executablePath: executablePath, pid: pid, termination: termination, stdout: stdout, stdoutTotalBytes: stdoutTotal,
            stderrTail: stderr, stderrTotalBytes: stderrTotal, duration: Descriptor.monotonicSeconds() - started,
            timedOut: timedOut, cancelled: cancelled
        )
    }

    /// Whether the child has exited, without reaping it (`waitid(WNOWAIT)`), so its pid and process
    /// group id stay reserved until we are done signalling the group.
    func hasExited() -> Bool {
        var info = siginfo_t()
        let result = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
        return result == 0 && info._sifields._sigchld.si_pid == pid
    }

    mutating func feedInput(_ offset: inout Int) {
        while offset < pendingInput.count {
            let result = pendingInput.withUnsafeBytes { bytes in
                try? Descriptor.write(stdinFD, from: UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            }
            switch result {
            case .bytes(let n)?: offset += n
            case .wouldBlock?: return
            case .brokenPipe?, nil: offset = pendingInput.count
            }
        }
        Descriptor.close(stdinFD)
        stdinFD = -1
    }
}

/// Calls `body` with a NULL-terminated array of C strings.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { for p in pointers { free(p) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
