import Foundation
import Testing
@testable import AgentOS

/// `Spawn.start`: a child that runs while we go on (the bench's watcher), and `Spawn.run`'s wait
/// for an exit when there is nothing else to watch.
@Suite struct SpawnStartTests {
    static let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]

    /// Everything the child writes until the pipe ends.
    static func readAll(_ fd: Int32) -> String {
        var bytes: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
        defer { buffer.deallocate() }
        while case .bytes(let n)? = try? Descriptor.read(fd, into: buffer) {
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        Descriptor.close(fd)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func stdoutAndStderrArriveThroughOnePipeAndTheExitIsReported() throws {
        let child = try Spawn.start(Spawn.Options(executable: "sh", arguments: ["-c", "printf out; printf err >&2; exit 3"], environment: Self.environment))
        #expect(Self.readAll(child.output) == "outerr")
        #expect(child.waitForExit(timeout: 60) == .exited(3))
        #expect(child.termination == .exited(3))
    }

    @Test func aRunningChildIsStoppedBySend() throws {
        let child = try Spawn.start(Spawn.Options(executable: "sleep", arguments: ["300"], environment: Self.environment))
        defer { Descriptor.close(child.output) }
        #expect(child.waitForExit(timeout: 0.05) == nil)
        #expect(child.termination == nil)
        #expect(FileManager.default.fileExists(atPath: "/proc/\(child.pid)"))
        child.send(SIGTERM)
        #expect(child.waitForExit(timeout: 60) == .signaled(SIGTERM))
        // Reaped: sending again is a no-op, not a signal to a recycled pid.
        child.send(SIGKILL)
        #expect(child.termination == .signaled(SIGTERM))
    }

    @Test func aMissingProgramIsRefusedBeforeAnythingStarts() {
        #expect(throws: Spawn.SpawnError.self) {
            try Spawn.start(Spawn.Options(executable: "fbt-no-such-program", environment: Self.environment))
        }
    }

    @Test func runWithoutTimeoutWaitsForAnExitAfterTheOutputsClosed() throws {
        // The child closes its outputs first and exits later: the run must still report its status.
        let result = try Spawn.run(Spawn.Options(executable: "sh", arguments: ["-c", "printf early; exec >&- 2>&-; sleep 0.2; exit 7"], environment: Self.environment))
        #expect(result.exitCode == 7)
        #expect(String(decoding: result.stdout, as: UTF8.self) == "early")
        #expect(!result.timedOut)
    }
}
