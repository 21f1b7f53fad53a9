import Foundation

extension ReconcileSummary {
    /// The summary in one line, as `index` and the watcher print it.
    public var oneLine: String {
        let seconds = String(format: "%.2f", self.seconds)
        return "indexed \(indexed) notes (\(added) new, \(changed) changed), \(unchanged) unchanged, \(removed) removed, \(skipped.count) skipped in \(seconds) s"
    }
}
