import Foundation

/// A first-in first-out queue of fixed capacity between one producer thread and one consumer.
final class BoundedChannel<Element: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var buffer: [Element] = []
    private var head = 0
    private var isClosed = false
    private let capacity: Int

    /// A queue holding at most `capacity` elements.
    init(capacity: Int) { self.capacity = capacity }

    /// Adds an element, waiting while the queue is full. Returns `false` once the consumer has closed
    /// the queue (the producer should stop).
    @discardableResult
    func send(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while buffer.count - head >= capacity && !isClosed { condition.wait() }
        if isClosed { return false }
        buffer.append(element)
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
        while buffer.count == head { condition.wait() }
        let element = buffer[head]
        head += 1
        if head > 256 && head * 2 > buffer.count {
            buffer.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        condition.unlock()
        return element
    }
}
