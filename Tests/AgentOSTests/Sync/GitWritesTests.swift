import Foundation
import Testing
@testable import AgentOS

/// The OS's writes waiting for git: a note is committed when it holds any bytes the OS wrote it
/// with, not only the last (two machines stopped converging when a note ended holding an earlier
/// write of the OS's after a person's pull put an old copy back for a moment).
@Suite struct GitWritesTests {
    let h1 = ContentHash(of: Array("done, as the run ended".utf8))
    let h2 = ContentHash(of: Array("set back to done".utf8))
    let person = ContentHash(of: Array("a person's edit".utf8))

    @Test func anEarlierWriteOfTheOSIsCommittedToo() {
        var writes = GitWrites()
        writes.record("Tasks/A.md", h1)
        writes.record("Tasks/A.md", h2)
        let taken = writes.takeMatching(current: ["Tasks/A.md": h1, "Tasks/B.md": h1])
        #expect(Array(taken.keys) == ["Tasks/A.md"] && writes.isEmpty)
    }

    @Test func aNoteHoldingNoneWaitsThenIsThePersons() {
        var writes = GitWrites()
        writes.record("Tasks/A.md", h1)
        for round in 1..<GitWrites.patience {
            #expect(writes.takeMatching(current: ["Tasks/A.md": person]).isEmpty)
            #expect(writes.entries["Tasks/A.md"]?.misses == round)
        }
        // The OS's bytes come back within the patience: committed.
        var again = writes
        #expect(Array(again.takeMatching(current: ["Tasks/A.md": h1]).keys) == ["Tasks/A.md"])
        // They never do: the note is the person's, and nothing is kept of it.
        #expect(writes.takeMatching(current: ["Tasks/A.md": person]).isEmpty && writes.isEmpty)
        // A note gone is dropped at once.
        writes.record("Tasks/B.md", h1)
        let gone: [String: ContentHash?] = ["Tasks/B.md": nil]
        #expect(gone.count == 1)
        #expect(writes.takeMatching(current: gone).isEmpty && writes.isEmpty)
    }

    @Test func whatARoundDidNotSettleComesBackUnlessWrittenAgain() {
        var writes = GitWrites()
        writes.record("Tasks/A.md", h1)
        writes.record("Tasks/B.md", h1)
        let taken = writes.takeMatching(current: ["Tasks/A.md": h1, "Tasks/B.md": h1])
        writes.record("Tasks/A.md", h2)
        writes.putBack(taken)
        #expect(writes.entries["Tasks/A.md"]?.hashes == [h2])
        #expect(writes.entries["Tasks/B.md"]?.hashes == [h1])
        // At most `kept` hashes a note.
        for i in 0..<20 { writes.record("Tasks/C.md", ContentHash(of: Array("v\(i)".utf8))) }
        #expect(writes.entries["Tasks/C.md"]?.hashes.count == GitWrites.kept)
        // A note the round did not read (recorded after it looked) is left as it is.
        #expect(writes.takeMatching(current: [:]).isEmpty && writes.entries["Tasks/C.md"]?.misses == 0)
    }
}
