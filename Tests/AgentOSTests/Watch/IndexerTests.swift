import Foundation
import Testing
@testable import AgentOS

/// The watcher's indexer: the OS's own writes indexed in a batch, the growing day notes spaced out
/// under a steady stream, everything indexed when the watcher is quiet or stops.
@Suite struct IndexerTests {
    @Test func aBatchOfNotesIsIndexedInOneCallAndEachOutcomeIsReported() throws {
        let temp = try TemporaryVault()
        let index = try MemoryIndex(vault: temp.vault)
        try temp.write("Results/One.md", "first answer quokka\n")
        try temp.write("Results/Two.md", "second answer quokka\n")
        #expect(try index.update(paths: ["Results/One.md", "Results/Two.md", "Results/Gone.md"]) == [.added, .added, .skipped(.vanished)])
        #expect(Set(try index.search("quokka").map(\.path)) == ["Results/One.md", "Results/Two.md"])
        #expect(try index.update(paths: []) == [])
    }

    @Test func dayNotesWaitUnderAStreamUntilDueAndAreIndexedWhenQuiet() throws {
        let temp = try TemporaryVault()
        var state = Indexer.State(index: try MemoryIndex(vault: temp.vault))
        let day = "Telemetry/2026-12-03.md", task = "Tasks/A.md"
        try temp.write(day, "| run | wombat |\n")
        try temp.write(task, "---\nstatus: done\n---\nnumbat\n")
        state.deferred = [day, task]
        let now = Date()
        // Under a stream and not yet due: the task note is indexed, the day note waits.
        state.nextLogIndex = now.addingTimeInterval(60)
        Indexer.flush(&state, includeLogs: false, log: { _ in }, now: now)
        #expect(state.deferred == [day])
        #expect(try state.index.search("numbat").map(\.path) == [task])
        #expect(try state.index.search("wombat").isEmpty)
        // Due (the spacing has passed): indexed, and the next one is spaced by what it took.
        Indexer.flush(&state, includeLogs: false, log: { _ in }, now: now.addingTimeInterval(61))
        #expect(state.deferred.isEmpty)
        #expect(try state.index.search("wombat").map(\.path) == [day])
        #expect(state.nextLogIndex > now)
        // Quiet: indexed whatever the spacing says.
        try temp.write(day, "| run | wombat |\n| run | dingo |\n")
        state.deferred = [day]
        state.nextLogIndex = Date.distantFuture
        Indexer.flush(&state, includeLogs: true, log: { _ in }, now: now)
        #expect(state.deferred.isEmpty)
        #expect(try state.index.search("dingo").map(\.path) == [day])
    }

    /// Under a stream of single-note commits with no quiet moment (a burst of runs), the write-ahead
    /// log is copied into the index and written again from its start once it passes its bound, and a
    /// log file grown past the kept size is cut back: before, nothing checkpointed under a stream and
    /// a 1,000-task burst left a 1.25 GB log. Every note stays searchable.
    @Test func theWriteAheadLogStaysBoundedUnderAStreamOfCommits() throws {
        let temp = try TemporaryVault()
        let index = try MemoryIndex(vault: temp.vault)
        let bound = 256 << 10
        _ = try Indexer.catchUp(index, checkpointBytes: bound, keptBytes: 2 * bound)
        let wal = temp.vault.databasePath + "-wal"
        var largest: Int64 = 0
        for i in 0..<60 {
            let path = "Results/Answer \(i).md"
            try temp.write(path, "---\ntype: result\ntask: \"[[Tasks/T\(i)]]\"\n---\n# Answer \(i)\n\nanswer number \(i) with the word numbat\(i)\n")
            _ = try index.update(path: path)
            largest = max(largest, try #require(try FileSystem.status(wal)).size)
        }
        let pageSize = try #require(try index.database.scalarInt("PRAGMA page_size"))
        // One commit can carry the log past the bound before its checkpoint: a bound and a commit's pages.
        #expect(largest <= Int64(bound) + 64 * pageSize, "the log reached \(largest) bytes")
        #expect(try index.search("numbat59").map(\.path) == ["Results/Answer 59.md"])
        #expect(try index.search("numbat0").map(\.path) == ["Results/Answer 0.md"])

        // A transaction bigger than the kept size leaves no more than that once the log starts again.
        var batch: [String] = []
        for i in 0..<200 {
            let path = "Memory/Bulk \(i).md"
            try temp.write(path, "# Bulk \(i)\n\n" + String(repeating: "wombat\(i) quokka dingo bilby ", count: 40) + "\n")
            batch.append(path)
        }
        _ = try index.update(paths: batch)
        _ = try index.update(path: "Results/Answer 0.md")
        try temp.write("Results/Answer 0.md", "a new answer\n")
        _ = try index.update(path: "Results/Answer 0.md")
        #expect(try #require(try FileSystem.status(wal)).size <= Int64(2 * bound), "the log file was cut back to the kept size")
    }

    /// The heap's free pages go back to the system after work (the index changed), at most every
    /// `releaseSpacing` seconds under a stream, and not again while nothing happens.
    @Test func freePagesAreHandedBackAfterWorkAndSpacedUnderAStream() throws {
        let temp = try TemporaryVault()
        var state = Indexer.State(index: try MemoryIndex(vault: temp.vault))
        let now = Date()
        Indexer.releaseFreePagesIfDue(&state, now: now)
        #expect(state.nextRelease == now.addingTimeInterval(Indexer.releaseSpacing), "a new watcher hands back its start-up pages")
        // Nothing written since: not again, however long it waits.
        Indexer.releaseFreePagesIfDue(&state, now: now.addingTimeInterval(3600))
        #expect(state.nextRelease == now.addingTimeInterval(Indexer.releaseSpacing))
        // Written, within the spacing: waits.
        try temp.write("Results/One.md", "an answer\n")
        _ = try state.index.update(paths: ["Results/One.md"])
        Indexer.releaseFreePagesIfDue(&state, now: now.addingTimeInterval(1))
        #expect(state.nextRelease == now.addingTimeInterval(Indexer.releaseSpacing))
        // Written, and the spacing has passed: handed back, and spaced again from then.
        let later = now.addingTimeInterval(Indexer.releaseSpacing)
        Indexer.releaseFreePagesIfDue(&state, now: later)
        #expect(state.nextRelease == later.addingTimeInterval(Indexer.releaseSpacing))
        #expect(state.changesAtLastRelease == state.index.database.totalChanges)
    }

    /// The file removed between start-up's open and the moment the watcher's indexer is made (the
    /// start-up sweep lies between): the indexer knows the inode the connection opened, so the
    /// removal is still seen. Before, it took the inode at the path when it was made, found none,
    /// and never noticed; the watcher wrote to the unlinked file from then on.
    @Test func anIndexFileRemovedBeforeTheIndexerStartsIsStillSeen() throws {
        let temp = try TemporaryVault()
        try temp.write("Memory/Kiwi.md", "# Kiwi\n\nThe kiwi note.\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try Indexer.catchUp(index)
        let opened = try #require(FileSystem.identity(temp.vault.databasePath)?.inode)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: temp.vault.databasePath + suffix) }
        #expect(Indexer(index: index).fileInode == opened, "the indexer made now knows the file its connection opened")
        var state = Indexer.State(index: index, inode: index.fileInode)
        let logged = Locked<[String]>([])
        Indexer.reopenIfReplaced(&state, log: { event in logged.withLock { $0.append(event.message) } })
        #expect(state.index !== index, "a new connection on a new file")
        #expect(logged.withLock { $0 }.contains { $0.contains("was removed while watching") }, "\(logged.withLock { $0 })")
        #expect(try state.index.search("kiwi").map(\.path) == ["Memory/Kiwi.md"], "caught up")
        #expect(state.inode == FileSystem.identity(temp.vault.databasePath)?.inode)
    }

    @Test func anIndexFileReplacedUnderTheWatcherIsOpenedAgainAndCaughtUp() throws {
        let temp = try TemporaryVault()
        try temp.write("Memory/Kiwi.md", "# Kiwi\n\nThe kiwi note.\n")
        var state = Indexer.State(index: try MemoryIndex(vault: temp.vault), inode: nil)
        _ = try state.index.reconcile()
        state.inode = FileSystem.identity(temp.vault.databasePath)?.inode
        let first = state.index
        Indexer.reopenIfReplaced(&state, log: { _ in })
        #expect(state.index === first, "the same file: nothing to do")

        // Moved aside (as a damaged file is) and a new, empty one made in its place by another command.
        let path = temp.vault.databasePath
        for suffix in ["", "-wal", "-shm"] { _ = rename(path + suffix, path + ".old" + suffix) }
        _ = try MemoryIndex(vault: temp.vault)
        // Within the wait after a failed attempt: not tried (a failing open must not fill the log
        // at every housekeeping), then tried once the wait is over.
        let now = Date()
        state.nextReopen = now.addingTimeInterval(Indexer.reopenRetry)
        Indexer.reopenIfReplaced(&state, log: { _ in }, now: now)
        #expect(state.index === first)
        let events = Locked<[String]>([])
        Indexer.reopenIfReplaced(&state, log: { event in events.withLock { $0.append(event.message) } }, now: now.addingTimeInterval(Indexer.reopenRetry + 1))
        let logged = events.withLock { $0 }
        #expect(state.index !== first)
        #expect(state.inode == FileSystem.identity(path)?.inode)
        #expect(try state.index.search("kiwi").map(\.path) == ["Memory/Kiwi.md"], "caught up with the vault")
        #expect(logged.contains { $0.contains("was replaced while watching") }, "\(logged)")
    }

    @Test func jobsRunInOrderAndFinishIndexesWhatWasDeferred() throws {
        let temp = try TemporaryVault()
        let indexer = Indexer(index: try MemoryIndex(vault: temp.vault))
        let day = "Daily/2026-12-03.md"
        try temp.write(day, "- 10:00 a line about an echidna\n")
        let order = Locked([Int]())
        for i in 0..<50 { indexer.async { _ in order.withLock { $0.append(i) } } }
        indexer.async { state in
            state.deferred.insert(day)
            state.nextLogIndex = .distantFuture
        }
        indexer.finish(log: { _ in })
        #expect(order.withLock { $0 } == Array(0..<50))
        let reader = try #require(try MemoryIndex.openForReading(vault: temp.vault))
        #expect(try reader.search("echidna").map(\.path) == [day])
    }
}
