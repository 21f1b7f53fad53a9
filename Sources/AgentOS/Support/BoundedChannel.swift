import Foundation

/// A first-in first-out queue of fixed capacity between one producer thread and one consumer.
/// A ring: an element taken out is no longer held (the index's notes pass through it with their
/// bytes, and a queue that kept the taken ones until it compacted held hundreds at a time).
final class BoundedChannel<Element: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var slots: [Element?]
    private var head = 0
    private var count = 0
    private var isClosed = false

    /// A queue holding at most `capacity` elements.
    init(capacity: Int) { slots = Array(repeating: nil, count: max(1, capacity)) }

    /// Adds an element, waiting while the queue is full. Returns `false` once the consumer has closed
    /// the queue (the producer should stop).
    @discardableResult
    func send(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while count == slots.count && !isClosed { condition.wait() }
        if isClosed { return false }
        slots[(head + count) % slots.count] = element
        count += 1
        condition.broadcast()
        return true
    }

    /// Tells the producer to stop (the consumer gave up, e.g. on an error).
    func close() {
        condition.lock()
        isClosed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Takes the oldest element, waiting while the queue is empty.
    func receive() -> Element {
        condition.lock()
        while count == 0 { condition.wait() }
        let element = slots[head].take()!
        head = (head + 1) % slots.count
        count -= 1
        condition.broadcast()
        condition.unlock()
        return element
    }
}
