import Foundation

/// A PNG decoded in the tests, so that a screenshot is checked by its pixels, not its size: the
/// chunks (signature, IHDR, IDAT, IEND, every CRC), zlib's DEFLATE (RFC 1951: stored, fixed and
/// dynamic Huffman blocks) and the five scanline filters. Only what Chromium writes is supported:
/// 8-bit RGB or RGBA, not interlaced. Written here because neither Foundation on Linux nor the
/// toolchain brings zlib, and the project takes no packages.
public struct PNGImage {
    /// Pixels across.
    public let width: Int
    /// Pixels down.
    public let height: Int
    /// RGBA, 4 bytes a pixel, row after row.
    public let rgba: [UInt8]

    /// Why a file is not a PNG this decoder reads.
    public struct DecodeError: Error, CustomStringConvertible {
        /// One line.
        public let description: String
    }

    /// The pixel at (`x`, `y`) as (r, g, b, a).
    public func pixel(_ x: Int, _ y: Int) -> (UInt8, UInt8, UInt8, UInt8) {
        let i = (y * width + x) * 4
        return (rgba[i], rgba[i + 1], rgba[i + 2], rgba[i + 3])
    }

    /// How many distinct colours the image holds (stops counting at `limit`).
    public func distinctColours(limit: Int = 1000) -> Int {
        var seen = Set<UInt32>()
        var i = 0
        while i < rgba.count && seen.count < limit {
            seen.insert(UInt32(rgba[i]) << 24 | UInt32(rgba[i + 1]) << 16 | UInt32(rgba[i + 2]) << 8 | UInt32(rgba[i + 3]))
            i += 4
        }
        return seen.count
    }

    /// Decodes `bytes`.
    public init(_ bytes: [UInt8]) throws {
        guard bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { throw DecodeError(description: "no PNG signature") }
        var offset = 8
        var header: [UInt8] = []
        var data: [UInt8] = []
        var ended = false
        func be32(_ at: Int) -> Int { Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]) }
        while offset + 12 <= bytes.count {
            let length = be32(offset)
            guard offset + 12 + length <= bytes.count else { throw DecodeError(description: "a chunk runs past the end") }
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let body = Array(bytes[(offset + 8)..<(offset + 8 + length)])
            guard PNGImage.crc32(Array(bytes[(offset + 4)..<(offset + 8 + length)])) == UInt32(be32(offset + 8 + length)) else {
                throw DecodeError(description: "bad CRC in \(type)")
            }
            switch type {
            case "IHDR": header = body
            case "IDAT": data += body
            case "IEND": ended = true
            default: break
            }
            offset += 12 + length
            if ended { break }
        }
        guard ended, header.count == 13 else { throw DecodeError(description: "no IHDR or IEND") }
        let width = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        let height = Int(header[4]) << 24 | Int(header[5]) << 16 | Int(header[6]) << 8 | Int(header[7])
        guard header[8] == 8, header[9] == 2 || header[9] == 6, header[12] == 0 else {
            throw DecodeError(description: "unsupported PNG: depth \(header[8]), colour type \(header[9]), interlace \(header[12])")
        }
        let channels = header[9] == 6 ? 4 : 3
        guard data.count > 6, (Int(data[0]) << 8 | Int(data[1])) % 31 == 0, data[0] & 0x0F == 8 else { throw DecodeError(description: "bad zlib header") }
        var inflater = Inflater(Array(data.dropFirst(2)))
        let raw = try inflater.inflate()
        let stride = width * channels
        guard raw.count >= height * (stride + 1) else { throw DecodeError(description: "image data too short: \(raw.count) bytes for \(width)×\(height)") }
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            let line = y * (stride + 1) + 1
            for x in 0..<stride {
                let a = x >= channels ? Int(pixels[y * stride + x - channels]) : 0
                let b = y > 0 ? Int(pixels[(y - 1) * stride + x]) : 0
                let c = x >= channels && y > 0 ? Int(pixels[(y - 1) * stride + x - channels]) : 0
                let value = Int(raw[line + x])
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = (a + b) / 2
                case 4:
                    let p = a + b - c
                    let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predicted = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw DecodeError(description: "unknown filter \(filter) on row \(y)")
                }
                pixels[y * stride + x] = UInt8((value + predicted) & 0xFF)
            }
        }
        if channels == 4 {
            rgba = pixels
        } else {
            var out = [UInt8](repeating: 255, count: width * height * 4)
            for i in 0..<(width * height) {
                out[i * 4] = pixels[i * 3]
                out[i * 4 + 1] = pixels[i * 3 + 1]
                out[i * 4 + 2] = pixels[i * 3 + 2]
            }
            rgba = out
        }
        self.width = width
        self.height = height
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

/// DEFLATE (RFC 1951), read bit by bit with canonical Huffman tables.
private struct Inflater {
    let input: [UInt8]
    var position = 0
    var bitBuffer = 0
    var bitCount = 0
    var output: [UInt8] = []

    init(_ input: [UInt8]) { self.input = input }

    struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int] = []
        init(lengths: [Int]) {
            for length in lengths { counts[length] += 1 }
            counts[0] = 0
            var offsets = [Int](repeating: 0, count: 16)
            for i in 1..<16 { offsets[i] = offsets[i - 1] + counts[i - 1] }
            symbols = [Int](repeating: 0, count: lengths.count)
            for (symbol, length) in lengths.enumerated() where length != 0 {
                symbols[offsets[length]] = symbol
                offsets[length] += 1
            }
        }
    }

    mutating func bits(_ n: Int) throws -> Int {
        while bitCount < n {
            guard position < input.count else { throw PNGImage.DecodeError(description: "DEFLATE data ends early") }
            bitBuffer |= Int(input[position]) << bitCount
            position += 1
            bitCount += 8
        }
        let value = bitBuffer & ((1 << n) - 1)
        bitBuffer >>= n
        bitCount -= n
        return value
    }

    mutating func decode(_ table: Huffman) throws -> Int {
        var code = 0, first = 0, index = 0
        for length in 1..<16 {
            code |= try bits(1)
            let count = table.counts[length]
            if code - count < first { return table.symbols[index + (code - first)] }
            index += count
            first += count
            first <<= 1
            code <<= 1
        }
        throw PNGImage.DecodeError(description: "bad Huffman code")
    }

    static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    mutating func inflate() throws -> [UInt8] {
        var last = 0
        while last == 0 {
            last = try bits(1)
            switch try bits(2) {
            case 0:
                bitBuffer = 0
                bitCount = 0
                guard position + 4 <= input.count else { throw PNGImage.DecodeError(description: "stored block header past the end") }
                let length = Int(input[position]) | Int(input[position + 1]) << 8
                position += 4
                guard position + length <= input.count else { throw PNGImage.DecodeError(description: "stored block past the end") }
                output += input[position..<(position + length)]
                position += length
            case 1:
                let lengths = [Int](repeating: 8, count: 144) + [Int](repeating: 9, count: 112) + [Int](repeating: 7, count: 24) + [Int](repeating: 8, count: 8)
                try block(Huffman(lengths: lengths), Huffman(lengths: [Int](repeating: 5, count: 30)))
            case 2:
                let literalCount = try bits(5) + 257, distanceCount = try bits(5) + 1, codeCount = try bits(4) + 4
                let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
                var codeLengths = [Int](repeating: 0, count: 19)
                for i in 0..<codeCount { codeLengths[order[i]] = try bits(3) }
                let codeTable = Huffman(lengths: codeLengths)
                var lengths: [Int] = []
                while lengths.count < literalCount + distanceCount {
                    let symbol = try decode(codeTable)
                    switch symbol {
                    case 0..<16: lengths.append(symbol)
                    case 16:
                        guard let previous = lengths.last else { throw PNGImage.DecodeError(description: "repeat with no length") }
                        lengths += [Int](repeating: previous, count: 3 + (try bits(2)))
                    case 17: lengths += [Int](repeating: 0, count: 3 + (try bits(3)))
                    default: lengths += [Int](repeating: 0, count: 11 + (try bits(7)))
                    }
                }
                try block(Huffman(lengths: Array(lengths[0..<literalCount])), Huffman(lengths: Array(lengths[literalCount...])))
            default:
                throw PNGImage.DecodeError(description: "reserved DEFLATE block type")
            }
        }
        return output
    }

    mutating func block(_ literals: Huffman, _ distances: Huffman) throws {
        while true {
            let symbol = try decode(literals)
            if symbol < 256 {
                output.append(UInt8(symbol))
            } else if symbol == 256 {
                return
            } else {
                let index = symbol - 257
                guard index < Inflater.lengthBase.count else { throw PNGImage.DecodeError(description: "bad length symbol") }
                let length = Inflater.lengthBase[index] + (try bits(Inflater.lengthExtra[index]))
                let d = try decode(distances)
                guard d < Inflater.distanceBase.count else { throw PNGImage.DecodeError(description: "bad distance symbol") }
                let distance = Inflater.distanceBase[d] + (try bits(Inflater.distanceExtra[d]))
                guard distance <= output.count else { throw PNGImage.DecodeError(description: "distance past the start") }
                let start = output.count - distance
                for i in 0..<length { output.append(output[start + i]) }
            }
        }
    }
}
