import Foundation
import Testing
@testable import AgentOS

/// `BoundedChannel`: the queue between the index's reading thread and its writing one, and the MCP
/// server's reader and worker.
@Suite struct BoundedChannelTests {
    final class Payload: Sendable {
        let number: Int
        init(_ number: Int) { self.number = number }
    }

    @Test func everyElementArrivesOnceInOrderThroughManyWrapsOfTheRing() {
        let channel = BoundedChannel<Int>(capacity: 3)
        let count = 10_000
        Thread.detachNewThread {
            for i in 0..<count { channel.send(i) }
        }
        var received: [Int] = []
        for _ in 0..<count { received.append(channel.receive()) }
        #expect(received == Array(0..<count))
    }

    @Test func theProducerWaitsWhileTheQueueIsFullAndStopsOnceClosed() {
        let channel = BoundedChannel<Int>(capacity: 2)
        let sent = Locked(0)
        let finished = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            var i = 0
            while channel.send(i) {
                sent.withLock { $0 += 1 }
                i += 1
            }
            finished.signal()
        }
        func waitFor(_ value: Int) -> Bool {
            let deadline = Date().addingTimeInterval(10)
            while sent.withLock({ $0 }) < value && Date() < deadline { usleep(1_000) }
            return sent.withLock { $0 } == value
        }
        #expect(waitFor(2))
        // The queue is full: however long the producer is given, it gets no further.
        Thread.sleep(forTimeInterval: 0.1)
        #expect(sent.withLock { $0 } == 2)
        #expect(channel.receive() == 0)
        #expect(waitFor(3))
        channel.close()
        #expect(finished.wait(timeout: .now() + 10) == .success)
    }

    @Test func anElementTakenOutIsNoLongerHeldByTheQueue() {
        let channel = BoundedChannel<Payload>(capacity: 4)
        weak var first: Payload?
        do {
            let payload = Payload(1)
            first = payload
            channel.send(payload)
            channel.send(Payload(2))
        }
        #expect(first != nil, "still queued")
        do {
            let taken = channel.receive()
            #expect(taken.number == 1)
        }
        #expect(first == nil, "the queue let go of the element it handed out")
        #expect(channel.receive().number == 2)
    }
}
