import Foundation
import TestSupport
import Testing

/// The shared test harness itself: if it quietly did less than it says, every suite built on it
/// would pass for the wrong reason.
@Suite struct TestSupportTests {
    @Test func aChildProcessGetsItsInputAndEnvironmentAndItsOutputAndCodeAreKept() throws {
        let outcome = try ChildProcess.run("/bin/sh", ["-c", "read line; echo \"out:$line:$GREETING\"; echo err >&2; exit 3"],
                                           environment: ["GREETING": "hi"], input: .text("typed\n"))
        #expect(outcome.code == 3 && !outcome.signalled && !outcome.timedOut)
        #expect(outcome.stdout == "out:typed:hi\n")
        #expect(outcome.stderr == "err\n")
    }

    @Test func aChildProcessPastItsDeadlineIsKilledAndSaysSo() throws {
        let outcome = try ChildProcess.run("/bin/sleep", ["30"], timeout: 0.2)
        #expect(outcome.timedOut && outcome.signalled && outcome.code == SIGKILL)
    }

    @Test func aServerStyleChildPrintsItsFirstLineAndStopsWhenItsInputCloses() throws {
        let child = try ChildProcess("/bin/sh", ["-c", "echo 4242; cat >/dev/null; echo bye"], input: .pipe)
        #expect(try child.firstLine(within: 30) == "4242")
        #expect(child.isRunning)
        child.closeInput()
        let outcome = child.finish(timeout: 30)
        #expect(outcome.code == 0 && !outcome.timedOut && outcome.stdout == "4242\nbye\n")
    }

    @Test func aProgramThatCannotStartIsAClearError() {
        #expect(throws: TestSupportError.self) { try ChildProcess.run("/nonexistent/program", []) }
    }

    @Test func aTemporaryFolderIsFreshAndGoesAwayWithItsOwner() throws {
        var path = ""
        do {
            let folder = TemporaryFolder("fbt-harness")
            path = folder.path
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue)
            #expect(try FileManager.default.contentsOfDirectory(atPath: path).isEmpty)
            #expect(path != TemporaryFolder("fbt-harness").path)
            try Data("x".utf8).write(to: URL(fileURLWithPath: path + "/file"))
            withExtendedLifetime(folder) {}
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func eventuallySaysWhetherTheConditionHeldBeforeTheDeadline() {
        var calls = 0
        #expect(eventually(within: 30) { calls += 1; return calls == 3 })
        #expect(calls == 3)
        #expect(!eventually(within: 0.1) { false })
        // A condition that throws has not held yet.
        #expect(!eventually(within: 0.1) { throw TestSupportError("not yet") })
    }

    @Test func externalToolsAreFoundOrSkippedVisiblyButNeverMissingInCI() {
        #expect(ExternalTool.path("sh") != nil)
        #expect(ExternalTool.path("no-such-tool-fbt") == nil)
        #expect(!ExternalTool.canRun("no-such-tool-fbt", inCI: false))
        // In CI the test runs anyway, so that `require` fails it.
        #expect(ExternalTool.canRun("no-such-tool-fbt", inCI: true))
        #expect(throws: TestSupportError.self) { try ExternalTool.require("no-such-tool-fbt") }
    }

    @Test func theRepositoryPathsAndTheBuiltBinaryAreFound() throws {
        #expect(FileManager.default.fileExists(atPath: RepositoryPaths.file("Package.swift")))
        #expect(FileManager.default.isExecutableFile(atPath: RepositoryPaths.fixtureAgents + "/claude"))
        #expect(FileManager.default.isExecutableFile(atPath: RepositoryPaths.endToEndFixtures + "/slow-agent"))
        #expect(FileManager.default.isExecutableFile(atPath: try BuiltBinary.path()))
    }
}
