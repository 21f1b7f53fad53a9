import Foundation

/// A Chrome DevTools Protocol connection over our own `WebSocket`: commands with ids, their
/// replies, and the events that arrive in between (kept in order for the caller to read).
/// Commands for a page carry the `sessionId` of `Target.attachToTarget` (flat mode), so one
/// browser-level socket drives every page.
///
/// Not `Sendable`: one thread drives one connection.
public final class DevTools {
    /// A CDP event: its method (`Runtime.consoleAPICalled`), parameters and session.
    public struct Event: Sendable {
        /// The event's name.
        public var method: String
        /// Its parameters.
        public var params: JSON
        /// The page session it belongs to (`nil` for browser-level events).
        public var sessionID: String?
    }

    /// A command the browser answered with an error, or a connection problem.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        /// One line.
        public var description: String
    }

    private let socket: WebSocket
    private let cancel: CancelToken?
    private var nextID = 1
    /// Events received and not yet taken by `takeEvents`.
    private var pending: [Event] = []

    /// Connects to the browser endpoint `ws://127.0.0.1:port/path` (from `DevToolsActivePort`).
    public init(port: Int, path: String, deadline: Double, cancel: CancelToken?) throws(Failure) {
        do {
            socket = try WebSocket(port: port, path: path, deadline: deadline, cancel: cancel)
        } catch {
            throw Failure(description: error.description)
        }
        self.cancel = cancel
    }

    /// Sends `method` and waits for its reply until `deadline`; events arriving meanwhile are kept.
    @discardableResult
    public func call(_ method: String, _ params: [(String, JSON)] = [], session: String? = nil, deadline: Double) throws(Failure) -> JSON {
        let id = nextID
        nextID += 1
        var message: [(String, JSON)] = [("id", .int(id)), ("method", .string(method)), ("params", .object(params))]
        if let session { message.append(("sessionId", .string(session))) }
        do {
            try socket.sendText(JSON.object(message).compact, deadline: deadline, cancel: cancel)
            while true {
                guard let text = try socket.receiveText(deadline: deadline, cancel: cancel) else {
                    throw Failure(description: "the browser did not answer \(method) in time")
                }
                guard let reply = try? JSON.parse(text) else { continue }
                if reply["id"]?.intValue == id {
                    if let error = reply["error"] {
                        throw Failure(description: "\(method): \(error["message"]?.stringValue ?? error.compact)")
                    }
                    return reply["result"] ?? .object([])
                }
                keep(reply)
            }
        } catch let failure as Failure {
            throw failure
        } catch let error as WebSocket.WebSocketError {
            throw Failure(description: error == .timedOut ? "the browser did not answer \(method) in time" : error.description)
        } catch {
            throw Failure(description: String(describing: error))
        }
    }

    /// Reads events until `until` returns true for one of them (kept events included) or `deadline`
    /// passes; whether it was seen.
    public func wait(deadline: Double, until: (Event) -> Bool) throws(Failure) -> Bool {
        if pending.contains(where: until) { return true }
        do {
            while let text = try socket.receiveText(deadline: deadline, cancel: cancel) {
                guard let message = try? JSON.parse(text), let event = keep(message) else { continue }
                if until(event) { return true }
            }
            return false
        } catch {
            if error == .timedOut { return false }
            throw Failure(description: error.description)
        }
    }

    /// The events received so far, in order; they are forgotten here.
    public func takeEvents() -> [Event] {
        defer { pending = [] }
        return pending
    }

    @discardableResult
    private func keep(_ message: JSON) -> Event? {
        guard let method = message["method"]?.stringValue else { return nil }
        let event = Event(method: method, params: message["params"] ?? .object([]), sessionID: message["sessionId"]?.stringValue)
        pending.append(event)
        return event
    }
}
