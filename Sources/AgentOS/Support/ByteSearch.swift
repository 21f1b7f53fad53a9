import CSQLite
import Foundation

/// Whether a text holds some ASCII bytes, without Foundation: `text.contains("/")` with a string
/// literal is Foundation's `range(of:)`, which bridges the whole text to `NSString` and compares it
/// by a locale at every call — three quarters of the time spent reading paths on disk out of a
/// context packet's pieces went into such checks before the real reading.
///
/// Use these only as a gate before a costlier reading that decides: they compare bytes, so they
/// find `/` in `/` followed by a combining mark, where a character-wise search does not (a gate that
/// passes more often than needed changes nothing but the time), and they do not find what is only
/// canonically the same: `é` as `e` and an accent, `K` as KELVIN SIGN, `;` as GREEK QUESTION MARK.
/// The marks gated on (`/ ~ $ [ < & \ ' "`, `HOME`) have no such twin (`ByteSearchTests`).
extension StringProtocol {
    /// Whether the text's UTF-8 holds `ascii`.
    func holdsByte(_ ascii: Unicode.Scalar) -> Bool {
        precondition(ascii.isASCII, "holdsByte compares one ASCII byte")
        let byte = UInt8(ascii: ascii)
        return utf8.withContiguousStorageIfAvailable { $0.contains(byte) } ?? utf8.contains(byte)
    }

    /// Whether the text's UTF-8 holds `needle`'s bytes, in a row (`memmem`).
    func holdsBytes(_ needle: String) -> Bool {
        let found = utf8.withContiguousStorageIfAvailable { haystack in
            ByteSearch.contains(haystack, needle)
        }
        return found ?? ByteSearch.contains(Array(utf8), needle)
    }
}

enum ByteSearch {
    /// Whether `needle` occurs in `haystack`, as bytes (`memmem`; an empty needle is everywhere).
    static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: UnsafeRawBufferPointer) -> Bool {
        guard needle.count > 0 else { return true }
        guard haystack.count >= needle.count else { return false }
        return memmem(haystack.baseAddress, haystack.count, needle.baseAddress, needle.count) != nil
    }

    /// Whether `needle`'s UTF-8 occurs in `haystack`.
    static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: String) -> Bool {
        var needle = needle
        return needle.withUTF8 { contains(UnsafeRawBufferPointer(haystack), UnsafeRawBufferPointer($0)) }
    }

    /// Whether `haystack` holds `needle`'s UTF-8.
    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        haystack.withUnsafeBufferPointer { contains($0, needle) }
    }
}
