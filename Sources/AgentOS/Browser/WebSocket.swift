import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal WebSocket client (RFC 6455) over a plain TCP socket to a loopback address, enough for
/// the Chrome DevTools Protocol: the HTTP/1.1 upgrade, masked text frames out, text frames in
/// (fragmented or not, of any size up to `maxMessageBytes`), ping answered with pong, close.
/// No TLS and no other host than 127.0.0.1: it only ever talks to the Chromium this process started.
///
/// Not `Sendable`: one thread uses one connection.
public final class WebSocket {
    /// Why the connection failed, one line each.
    public enum WebSocketError: Error, Equatable, Sendable, CustomStringConvertible {
        /// The socket could not be made, connected, read or written.
        case connect(String)
        /// The HTTP upgrade was not answered with 101.
        case handshake(String)
        /// The deadline passed.
        case timedOut
        /// The run's cancel token fired.
        case cancelled
        /// The browser closed the connection (or sent a close frame).
        case closed
        /// A frame a server may not send (masked, unknown opcode).
        case protocolError(String)
        /// A message larger than `maxMessageBytes`.
        case tooLarge(Int)

        /// One line for the run's error.
        public var description: String {
            switch self {
            case .connect(let why): return "cannot connect to the browser's DevTools socket: \(why)"
            case .handshake(let why): return "the browser refused the DevTools WebSocket: \(why)"
            case .timedOut: return "the browser did not answer in time"
            case .cancelled: return "cancelled"
            case .closed: return "the browser closed the DevTools connection"
            case .protocolError(let why): return "bad WebSocket frame from the browser: \(why)"
            case .tooLarge(let n): return "a DevTools message passed \(n >> 20) MB"
            }
        }
    }

    /// The largest message kept (a full-page screenshot arrives as one base64 message).
    public let maxMessageBytes: Int
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var isClosed = false

    /// Connects to `ws://127.0.0.1:port/path` and completes the upgrade before `deadline`
    /// (a `Descriptor.monotonicSeconds()` value).
    public init(port: Int, path: String, deadline: Double, cancel: CancelToken?, maxMessageBytes: Int = 256 << 20) throws(WebSocketError) {
        self.maxMessageBytes = maxMessageBytes
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socketFD >= 0 else { throw .connect(String(cString: strerror(errno))) }
        fd = socketFD
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if connected != 0 {
            let why = String(cString: strerror(errno))
            Glibc.close(socketFD)
            throw .connect("127.0.0.1:\(port): \(why)")
        }
        // The key only has to be fresh; the browser is ours, so its accept value is not checked.
        var nonce = [UInt8](repeating: 0, count: 16)
        for i in nonce.indices { nonce[i] = UInt8.random(in: 0...255) }
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(Data(nonce).base64EncodedString())\r\nSec-WebSocket-Version: 13\r\n\r\n"
        do {
            try send(Array(request.utf8), deadline: deadline, cancel: cancel)
            var head: [UInt8] = []
            while true {
                if let end = findHeadEnd() {
                    head = Array(buffer[start..<end])
                    start = end + 4
                    break
                }
                if buffer.count - start > 64 << 10 { throw WebSocketError.handshake("an HTTP head over 64 KB") }
                try fill(deadline: deadline, cancel: cancel)
            }
            let statusLine = String(decoding: head.prefix { $0 != 13 }, as: UTF8.self)
            guard statusLine.split(separator: " ").dropFirst().first == "101" else { throw WebSocketError.handshake(statusLine) }
        } catch let error as WebSocketError {
            Glibc.close(socketFD)
            throw error
        } catch {
            Glibc.close(socketFD)
            throw .handshake(String(describing: error))
        }
    }

    deinit { Glibc.close(fd) }

    private func findHeadEnd() -> Int? {
        guard buffer.count - start >= 4 else { return nil }
        var i = start
        while i + 3 < buffer.count {
            if buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 { return i }
            i += 1
        }
        return nil
    }

    /// Sends one text message (masked, as a client must).
    public func sendText(_ text: String, deadline: Double, cancel: CancelToken?) throws(WebSocketError) {
        try sendFrame(opcode: 0x1, payload: Array(text.utf8), deadline: deadline, cancel: cancel)
    }

    private func sendFrame(opcode: UInt8, payload: [UInt8], deadline: Double, cancel: CancelToken?) throws(WebSocketError) {
        var frame: [UInt8] = [0x80 | opcode]
        let count = payload.count
        if count < 126 {
            frame.append(0x80 | UInt8(count))
        } else if count <= 0xFFFF {
            frame += [0x80 | 126, UInt8(count >> 8), UInt8(count & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((UInt64(count) >> UInt64(shift)) & 0xFF)) }
        }
        let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
        frame += mask
        frame.reserveCapacity(frame.count + count)
        for (i, byte) in payload.enumerated() { frame.append(byte ^ mask[i & 3]) }
        try send(frame, deadline: deadline, cancel: cancel)
    }

    /// The next text message, or `nil` when `deadline` passed first. Pings are answered on the way.
    public func receiveText(deadline: Double, cancel: CancelToken?) throws(WebSocketError) -> String? {
        var message: [UInt8] = []
        while true {
            let frame: (fin: Bool, opcode: UInt8, payload: [UInt8])
            do {
                guard let next = try readFrame(deadline: deadline, cancel: cancel) else { return nil }
                frame = next
            }
            switch frame.opcode {
            case 0x0, 0x1, 0x2:
                message += frame.payload
                if message.count > maxMessageBytes { throw .tooLarge(maxMessageBytes) }
                if frame.fin { return String(decoding: message, as: UTF8.self) }
            case 0x8:
                isClosed = true
                throw .closed
            case 0x9:
                try sendFrame(opcode: 0xA, payload: frame.payload, deadline: deadline, cancel: cancel)
            case 0xA:
                continue
            default:
                throw .protocolError("opcode \(frame.opcode)")
            }
        }
    }

    /// One frame; `nil` when the deadline passes before its first byte.
    private func readFrame(deadline: Double, cancel: CancelToken?) throws(WebSocketError) -> (fin: Bool, opcode: UInt8, payload: [UInt8])? {
        do {
            try need(2, deadline: deadline, cancel: cancel)
        } catch .timedOut where buffer.count == start {
            return nil
        }
        let first = buffer[start], second = buffer[start + 1]
        if second & 0x80 != 0 { throw .protocolError("a masked frame from the server") }
        var length = Int(second & 0x7F)
        var header = 2
        if length == 126 {
            try need(4, deadline: deadline, cancel: cancel)
            length = Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
            header = 4
        } else if length == 127 {
            try need(10, deadline: deadline, cancel: cancel)
            var value: UInt64 = 0
            for i in 2..<10 { value = value << 8 | UInt64(buffer[start + i]) }
            guard value <= UInt64(maxMessageBytes) else { throw .tooLarge(maxMessageBytes) }
            length = Int(value)
            header = 10
        }
        try need(header + length, deadline: deadline, cancel: cancel)
        let payload = Array(buffer[(start + header)..<(start + header + length)])
        start += header + length
        if start > 1 << 20 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        return (first & 0x80 != 0, first & 0x0F, payload)
    }

    private func need(_ count: Int, deadline: Double, cancel: CancelToken?) throws(WebSocketError) {
        while buffer.count - start < count { try fill(deadline: deadline, cancel: cancel) }
    }

    /// Waits for the socket to be ready, in short slices so a cancel is seen within 100 ms.
    private func wait(_ events: Int16, deadline: Double, cancel: CancelToken?) throws(WebSocketError) {
        while true {
            if cancel?.isCancelled == true { throw .cancelled }
            let left = deadline - Descriptor.monotonicSeconds()
            if left <= 0 { throw .timedOut }
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(left, 0.1) * 1000) + 1)
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw .connect(String(cString: strerror(errno))) }
        }
    }

    private func fill(deadline: Double, cancel: CancelToken?) throws(WebSocketError) {
        if isClosed { throw .closed }
        try wait(Int16(POLLIN), deadline: deadline, cancel: cancel)
        var chunk = [UInt8](repeating: 0, count: 256 << 10)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 {
            if errno == EINTR || errno == EAGAIN { return }
            throw .connect(String(cString: strerror(errno)))
        }
        if n == 0 {
            isClosed = true
            throw .closed
        }
        buffer += chunk[0..<n]
    }

    private func send(_ bytes: [UInt8], deadline: Double, cancel: CancelToken?) throws(WebSocketError) {
        var sent = 0
        while sent < bytes.count {
            try wait(Int16(POLLOUT), deadline: deadline, cancel: cancel)
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .connect(String(cString: strerror(errno)))
            }
            sent += n
        }
    }
}
