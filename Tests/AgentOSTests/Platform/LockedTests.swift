import Foundation
import Testing
@testable import AgentOS

/// `Locked`: the one lock for shared state.
@Suite struct LockedTests {
    @Test func concurrentChangesAreNeverLost() {
        let counter = Locked(0)
        let seen = Locked<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 2_000) { i in
            counter.withLock { $0 += 1 }
            seen.withLock { $0.append(i) }
        }
        #expect(counter.withLock { $0 } == 2_000)
        #expect(seen.withLock { Set($0) } == Set(0..<2_000))
    }

    @Test func aThrowingBodyKeepsWhatItChangedAndReleasesTheLock() {
        struct Stop: Error {}
        let value = Locked([1])
        #expect(throws: Stop.self) { try value.withLock { $0.append(2); throw Stop() } }
        // The lock was released: taking it again does not deadlock.
        #expect(value.withLock { $0 } == [1, 2])
    }
}
