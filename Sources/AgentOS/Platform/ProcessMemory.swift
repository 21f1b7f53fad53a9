#if canImport(Glibc)
import Glibc
#endif

/// The process's own heap.
public enum ProcessMemory {
    private typealias MallocTrim = @convention(c) (Int) -> Int32
    /// `malloc_trim(3)` as found in the C library at run time (Swift's Glibc module does not declare it).
    private static let mallocTrim: MallocTrim? = {
        // RTLD_DEFAULT is the null handle: search every loaded object.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: MallocTrim.self)
    }()

    /// Hands the heap's free pages back to the system (`malloc_trim(0)`), after a burst of work that
    /// freed much (the watcher's start-up index): glibc keeps freed memory for reuse otherwise, and a
    /// process that runs for days would hold its start-up peak for good. Does nothing without glibc.
    public static func releaseFreePages() {
        _ = mallocTrim?(0)
    }
}
