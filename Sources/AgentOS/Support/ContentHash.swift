/// A 64-bit content hash (FNV-1a) used for compare-and-swap writes, change detection and the index.
///
/// Not cryptographic: it detects that a note changed between a read and a write, which is all the
/// compare-and-swap needs. Rendered as 16 hex digits.
public struct ContentHash: Hashable, Sendable, CustomStringConvertible {
    public let value: UInt64

    public init(value: UInt64) { self.value = value }

    public init<Bytes: Sequence>(of bytes: Bytes) where Bytes.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        value = h
    }

    public init(of bytes: [UInt8]) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        bytes.withUnsafeBufferPointer { buffer in
            for b in buffer {
                h ^= UInt64(b)
                h = h &* 0x0000_0100_0000_01B3
            }
        }
        value = h
    }

    public init(of text: String) {
        var copy = text
        self = copy.withUTF8 { ContentHash(of: $0) }
    }

    /// Parses 16 hex digits.
    public init?(hex: String) {
        guard hex.count == 16, let v = UInt64(hex, radix: 16) else { return nil }
        value = v
    }

    public var hex: String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    public var description: String { hex }
}
