import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension StringProtocol {
    /// Replaces the file at `path` with this text, as an editor's save does: a temp file beside it,
    /// renamed over it (a reader sees the old text or the new, never half). Foundation's
    /// `write(toFile:atomically: true)` does the same through a `TemporaryDirectory.*` folder in
    /// `/tmp` that it never removes: the suite left over a hundred of them behind on every run.
    public func replacingFile(_ path: String) throws {
        // In the same folder (a rename does not cross file systems), under a short name: the file's
        // own name may already be as long as a name can be.
        let folder = (path as NSString).deletingLastPathComponent
        let temp = (folder.isEmpty ? "" : folder + "/") + ".replacing-\(getpid())-\(UInt32.random(in: 0 ... .max)).tmp"
        try Data(self.utf8).write(to: URL(fileURLWithPath: temp))
        guard rename(temp, path) == 0 else {
            let code = errno
            unlink(temp)
            throw NSError(domain: NSPOSIXErrorDomain, code: Int(code), userInfo: [NSLocalizedDescriptionKey: "rename \(temp) to \(path): \(String(cString: strerror(code)))"])
        }
    }
}
