import Foundation
import TestSupport
import Testing
@testable import AgentOS

@Suite struct SpawnTests {
    let environment = Spawn.environment(allowing: [], from: ProcessInfo.processInfo.environment)

    func bash(_ script: String, timeout: Double? = nil, grace: Double = 2, cwd: String? = nil,
              input: Spawn.Input = .none, cancel: CancelToken? = nil) throws -> Spawn.Result {
        try Spawn.run(Spawn.Options(executable: "bash", arguments: ["-c", script], environment: environment,
                                    workingDirectory: cwd, input: input, timeout: timeout, terminationGrace: grace, cancel: cancel))
    }

    @Test func collectsStdoutAndExitStatus() throws {
        let result = try bash("printf 'hello'; echo oops >&2; exit 7")
        #expect(String(decoding: result.stdout, as: UTF8.self) == "hello")
        #expect(String(decoding: result.stderrTail, as: UTF8.self) == "oops\n")
        #expect(result.termination == .exited(7))
        #expect(result.executablePath.hasSuffix("/bash"))
        #expect(!result.timedOut && !result.cancelled)
    }

    @Test func largeStderrAndStdoutTogetherDoNotDeadlock() throws {
        // stderr is filled first: a reader that waited on stdout alone would hang here forever.
        let result = try bash("head -c 5000000 /dev/zero >&2; head -c 5000000 /dev/zero; (head -c 3000000 /dev/zero >&2 &); head -c 3000000 /dev/zero; wait")
        #expect(result.termination == .exited(0))
        #expect(result.stdout.count == 8_000_000)
        #expect(result.stdoutTotalBytes == 8_000_000)
        #expect(result.stderrTotalBytes == 8_000_000)
        #expect(result.stderrTail.count == 64 << 10)
        #expect(result.isStderrTruncated && !result.isStdoutTruncated)
    }

    @Test func stdinIsFedWhileOutputIsDrained() throws {
        let input = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let result = try Spawn.run(Spawn.Options(executable: "cat", environment: environment, input: .bytes(input)))
        #expect(result.termination == .exited(0))
        #expect(result.stdout == input)
    }

    @Test func withoutInputStdinIsDevNull() throws {
        let result = try bash("cat; echo done")
        #expect(String(decoding: result.stdout, as: UTF8.self) == "done\n")
    }

    @Test func timeoutKillsTheWholeGroupIncludingGrandchildren() throws {
        let dir = TemporaryFolder.make()
        defer { TemporaryFolder.remove(dir) }
        let result = try bash("sleep 300 & echo $! > \(dir)/pid; wait", timeout: 0.5)
        #expect(result.timedOut)
        #expect(result.termination == .signaled(SIGTERM))
        let grandchild = try #require(PlatformTestSupport.read(dir + "/pid").flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        #expect(eventually(within: 5) { PlatformTestSupport.isDeadOrZombie(grandchild) })
        #expect(PlatformTestSupport.isDeadOrZombie(result.pid))
    }

    @Test func aChildIgnoringSIGTERMGetsSIGKILLAfterTheGrace() throws {
        let dir = TemporaryFolder.make()
        defer { TemporaryFolder.remove(dir) }
        let result = try bash("trap '' TERM; sleep 300 & echo $! > \(dir)/pid; wait; wait; sleep 300", timeout: 0.3, grace: 0.3)
        #expect(result.timedOut)
        #expect(result.termination == .signaled(SIGKILL))
        let grandchild = try #require(PlatformTestSupport.read(dir + "/pid").flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        #expect(eventually(within: 5) { PlatformTestSupport.isDeadOrZombie(grandchild) })
    }

    @Test func leftoverBackgroundProcessesDieWhenTheChildExits() throws {
        let dir = TemporaryFolder.make()
        defer { TemporaryFolder.remove(dir) }
        // The grandchild keeps stdout open; the run still ends (after the grace) and the grandchild is killed.
        let result = try bash("sleep 300 & echo $! > \(dir)/pid; echo parent done", grace: 0.2)
        #expect(result.termination == .exited(0))
        #expect(String(decoding: result.stdout, as: UTF8.self) == "parent done\n")
        let grandchild = try #require(PlatformTestSupport.read(dir + "/pid").flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        #expect(eventually(within: 5) { PlatformTestSupport.isDeadOrZombie(grandchild) })
    }

    @Test func cancelFromAnotherThreadStopsTheRun() throws {
        let token = CancelToken()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { token.cancel() }
        let result = try bash("sleep 300", cancel: token)
        #expect(result.cancelled && !result.timedOut)
        #expect(result.termination == .signaled(SIGTERM))
        #expect(PlatformTestSupport.isDeadOrZombie(result.pid))
    }

    @Test func childInheritsOnlyItsThreeStandardDescriptors() throws {
        // A descriptor opened without O_CLOEXEC (as other code in the process might) must not leak in.
        let leaky = open("/dev/null", O_RDONLY)
        defer { Descriptor.close(leaky) }
        #expect(leaky > 2)
        let result = try Spawn.run(Spawn.Options(executable: "ls", arguments: ["/proc/self/fd"], environment: environment))
        let fds = Set(String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").map(String.init))
        // 0-2 plus the one ls opens to list the folder.
        #expect(fds.isSubset(of: ["0", "1", "2", "3"]))
        #expect(!fds.contains(String(leaky)) || leaky == 3)
    }

    @Test func deathBySignalIsReported() throws {
        let result = try bash("kill -SEGV $$")
        #expect(result.termination == .signaled(SIGSEGV))
        #expect(result.signal == SIGSEGV && result.exitCode == nil)
        #expect(result.termination.description.contains("SIGSEGV"))
    }

    @Test func hundredMegabyteFloodIsTruncatedAndReported() throws {
        let result = try Spawn.run(Spawn.Options(executable: "head", arguments: ["-c", "104857600", "/dev/zero"], environment: environment))
        #expect(result.termination == .exited(0))
        #expect(result.stdoutTotalBytes == 104_857_600)
        #expect(result.stdout.count == 16 << 20)
        #expect(result.isStdoutTruncated)
    }

    @Test func environmentIsLimitedToTheAllowList() throws {
        let source = ["PATH": "/usr/bin:/bin", "HOME": "/tmp", "FBT_ALLOWED": "yes", "FBT_SECRET": "hunter2"]
        let env = Spawn.environment(allowing: ["FBT_ALLOWED", "FBT_ABSENT"], from: source, extras: ["FBT_EXTRA": "1"])
        #expect(env == ["PATH": "/usr/bin:/bin", "HOME": "/tmp", "FBT_ALLOWED": "yes", "FBT_EXTRA": "1"])
        let result = try Spawn.run(Spawn.Options(executable: "env", environment: env))
        let lines = Set(String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").map(String.init))
        #expect(lines == ["PATH=/usr/bin:/bin", "HOME=/tmp", "FBT_ALLOWED=yes", "FBT_EXTRA=1"])
    }

    @Test func workingDirectoryIsSet() throws {
        let dir = TemporaryFolder.make()
        defer { TemporaryFolder.remove(dir) }
        let result = try Spawn.run(Spawn.Options(executable: "pwd", environment: environment, workingDirectory: dir))
        #expect(String(decoding: result.stdout, as: UTF8.self) == dir + "\n")
        #expect(FileManager.default.currentDirectoryPath != dir)
    }

    @Test func badWorkingDirectoryIsAClearError() {
        #expect(throws: Spawn.SpawnError.self) {
            try Spawn.run(Spawn.Options(executable: "pwd", environment: environment, workingDirectory: "/nonexistent/fbt"))
        }
        do {
            _ = try Spawn.run(Spawn.Options(executable: "pwd", environment: environment, workingDirectory: "/nonexistent/fbt"))
        } catch {
            #expect(error.description.contains("/nonexistent/fbt"))
        }
    }

    @Test func missingProgramNamesThePath() {
        do {
            _ = try Spawn.run(Spawn.Options(executable: "fbt-no-such-program", environment: ["PATH": "/usr/bin:/bin"]))
            Issue.record("expected an error")
        } catch {
            #expect(error == .executableNotFound(name: "fbt-no-such-program", searchPath: "/usr/bin:/bin"))
            #expect(error.description == "fbt-no-such-program: not found on PATH (/usr/bin:/bin)")
        }
    }

    @Test func lookupSkipsRelativePathEntries() throws {
        let dir = TemporaryFolder.make()
        defer { TemporaryFolder.remove(dir) }
        PlatformTestSupport.write("#!/bin/sh\n", to: dir + "/tool")
        chmod(dir + "/tool", 0o755)
        PlatformTestSupport.write("not executable", to: dir + "/plain")
        #expect(try Spawn.resolveExecutable("tool", searchPath: "/nonexistent:\(dir)") == dir + "/tool")
        #expect(throws: Spawn.SpawnError.self) { try Spawn.resolveExecutable("plain", searchPath: dir) }
        // A relative PATH entry depends on the current directory: never searched, even when it points
        // at the right folder.
        let cwd = FileManager.default.currentDirectoryPath
        let up = String(repeating: "../", count: cwd.split(separator: "/").count)
        let relative = up + dir.dropFirst()
        #expect(FileManager.default.fileExists(atPath: relative + "/tool"))
        #expect(throws: Spawn.SpawnError.self) { try Spawn.resolveExecutable("tool", searchPath: relative + "::.") }
    }
}
