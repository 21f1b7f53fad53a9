import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// An executor that holds every run until `release()`, counting how many are inside at once.
final class HoldingExecutor: AgentExecuting, @unchecked Sendable {
    private let condition = NSCondition()
    private var inside = 0
    private var open = false
    /// The most runs that were inside the agent at the same moment.
    private(set) var mostAtOnce = 0

    func execute(agent: String, prompt: String, model: String?, approved: Bool, timeout: Double?, cancel: CancelToken, runEnvironment: [String: String], onStart: @escaping @Sendable (Int32) -> Void) -> AgentExecution {
        condition.lock()
        inside += 1
        mostAtOnce = max(mostAtOnce, inside)
        condition.broadcast()
        while !open { condition.wait() }
        inside -= 1
        condition.unlock()
        return AgentExecution(succeeded: true, answer: "held", error: nil, exitCode: 0)
    }

    /// Waits until `count` runs are inside at once; `false` after `seconds` (a hang guard only).
    func waitUntilInside(_ count: Int, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while inside < count { if !condition.wait(until: deadline) { return inside >= count } }
        return true
    }

    /// Lets every run, held or coming, finish.
    func release() {
        condition.lock()
        open = true
        condition.broadcast()
        condition.unlock()
    }

    /// The most runs inside at once, read under the lock.
    var peak: Int { condition.lock(); defer { condition.unlock() }; return mostAtOnce }
}

@Suite(.serialized) struct EngineThroughputTests {
    /// `concurrency: 3` on an agent note lets three of its runs run at once (the local lane alone
    /// allows two), and never a fourth.
    @Test func anAgentNoteSetsHowManyOfItsRunsRunAtOnce() throws {
        let env = try EngineTestVault()
        try env.store.write("---\ntype: agent\nname: wide\nlane: local\ncommand: [printf, \"%s\", \"{prompt}\"]\noutput: text\nconcurrency: 3\n---\n", to: "Rules/Agents/wide.md", expecting: .absent)
        let paths = try (0..<5).map { try env.writeTask("Wide \($0)", properties: "type: task\nagent: wide", body: "Task \($0).") }
        let executor = HoldingExecutor()
        let engine = TaskEngine(vault: env.vault, runs: try RunStore(vault: env.vault), routing: try VaultRouting(vault: env.vault), executor: executor) { _ in }
        for path in paths { #expect(engine.consider(path: path) != .ignored) }
        // Hang guard only: with the lane's width of two, a third run would never get inside.
        let three = executor.waitUntilInside(3, seconds: 300)
        executor.release()
        engine.waitUntilIdle()
        #expect(three, "three runs of an agent with concurrency: 3 were never inside at once")
        #expect(executor.peak == 3)
        for path in paths { #expect(try env.note(path).text("status") == "done") }
    }

    @Test func concurrencyMustBeAWholeNumberOfRuns() throws {
        for value in ["0", "2.5", "-1"] {
            let note = try Note.parse("---\ntype: agent\nname: x\nlane: local\ncommand: [printf, \"{prompt}\"]\noutput: text\nconcurrency: \(value)\n---\n")
            #expect(throws: AgentDefinitionError.self) { try AgentDefinition.parse(note) }
        }
        let note = try Note.parse("---\ntype: agent\nname: x\nlane: local\ncommand: [printf, \"{prompt}\"]\noutput: text\nconcurrency: 12\n---\n")
        #expect(try AgentDefinition.parse(note).concurrency == 12)
    }

    /// A run that starts at once writes its task note twice: route and `status: running` together,
    /// then the end. Each write of the OS is a rename into place, so the kernel's `IN_MOVED_TO`
    /// events for the note count them (read after the run; the kernel queues them).
    @Test(arguments: [true, false])
    func aRunThatStartsAtOnceWritesItsTaskNoteTwice(foreground: Bool) throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("Twice", properties: "type: task\nagent: echo", body: "Count the writes.")
        let fd = try Inotify.makeInstance()
        defer { Descriptor.close(fd) }
        _ = try Inotify.addWatch(fd, path: env.vault.root + "/Tasks", mask: [.movedTo, .onlyDirectory])
        guard case .started = engine.consider(path: path, wait: foreground) else {
            Issue.record("the task did not start")
            return
        }
        engine.waitUntilIdle()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 8)
        defer { buffer.deallocate() }
        let writes = try Inotify.readEvents(fd, buffer: buffer).filter { $0.name == "Twice.md" }.count
        #expect(writes == 2)
        let task = try env.note(path)
        #expect(task.text("status") == "done")
        #expect(task.text("route_lane") == "local")
        #expect(task.text("started") != nil)
    }
}
