import Foundation
import Testing
@testable import AgentOS

/// The engine's table of its recent writes: every event of a write recognised within the window,
/// nothing else, and a table that holds a window's writes rather than every note ever written.
@Suite struct OwnWritesTests {
    let a = ContentHash(of: "first version\n")
    let b = ContentHash(of: "second version\n")

    @Test func aWriteIsRecognisedByEveryEventWithinTheWindowAndNoLonger() {
        var writes = OwnWrites()
        writes.record("Tasks/A.md", a, now: 1_000)
        #expect(writes.holds("Tasks/A.md", a, now: 2_000))
        #expect(writes.holds("Tasks/A.md", a, now: 3_000), "a second event of the same bytes")
        #expect(!writes.holds("Tasks/A.md", b, now: 3_000), "other bytes are someone else's")
        #expect(!writes.holds("Tasks/B.md", a, now: 3_000), "another path")
        #expect(writes.hash(at: "Tasks/A.md", now: 3_000) == a)
        #expect(!writes.holds("Tasks/A.md", a, now: 1_000 + OwnWrites.window), "past the window")
        #expect(writes.hash(at: "Tasks/A.md", now: 1_000 + OwnWrites.window) == nil)
        // The last write counts; forgetting makes the next event anyone's.
        writes.record("Tasks/A.md", b, now: 5_000)
        #expect(!writes.holds("Tasks/A.md", a, now: 6_000))
        #expect(writes.holds("Tasks/A.md", b, now: 6_000))
        writes.forget("Tasks/A.md")
        #expect(!writes.holds("Tasks/A.md", b, now: 6_000))
    }

    @Test func theTableHoldsAWindowOfWritesNotEveryNoteEverWritten() {
        var writes = OwnWrites()
        // 100,000 result notes, one every millisecond: 100 s of writes, more than three windows.
        let step: UInt64 = 1_000_000
        var largest = 0
        for i in 0..<100_000 {
            writes.record("Results/Answer \(i).md", a, now: UInt64(i) * step)
            largest = max(largest, writes.count)
        }
        let perWindow = Int(OwnWrites.window / step)
        #expect(largest <= 2 * perWindow + 256, "at most \(largest) entries for \(perWindow) writes a window")
        #expect(writes.count <= 2 * perWindow + 256)
        // What was written within the window is still known.
        let last = UInt64(99_999) * step
        #expect(writes.holds("Results/Answer 99999.md", a, now: last))
        #expect(writes.holds("Results/Answer \(99_999 - perWindow + 1).md", a, now: last))
        #expect(!writes.holds("Results/Answer 0.md", a, now: last))
    }
}
