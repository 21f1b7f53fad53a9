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

    private typealias MallocOption = @convention(c) (Int32, Int32) -> Int32
    /// `mallopt(3)`, found the same way.
    private static let mallocOption: MallocOption? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return nil }
        return unsafeBitCast(symbol, to: MallocOption.self)
    }()

    /// Lets the heap use at most `arenas` arenas (`mallopt(M_ARENA_MAX)`), for a process that runs
    /// for long on many threads: glibc gives threads up to eight arenas per core, each keeping
    /// what its threads freed, holed by what they keep. Call before threads are started. Measured
    /// on the watcher, 2 cores, 2,500 echo tasks in bursts of 500: peak memory 47.8 MB with two
    /// arenas, 54.0 MB with glibc's default, at the same rate. Does nothing without glibc.
    public static func limitArenas(to arenas: Int) {
        // M_ARENA_MAX in <malloc.h>.
        _ = mallocOption?(-8, Int32(clamping: max(1, arenas)))
    }

    /// Hands the heap's free pages back to the system (`malloc_trim(0)`), after a burst of work that
    /// freed much (the watcher's start-up index): glibc keeps freed memory for reuse otherwise, and a
    /// process that runs for days would hold its start-up peak for good. Does nothing without glibc.
    public static func releaseFreePages() {
        _ = mallocTrim?(0)
    }
}
