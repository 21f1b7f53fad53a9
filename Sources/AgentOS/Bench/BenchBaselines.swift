import Foundation

/// What a figure is compared with: the same kind of work done the plainest way, measured in the same
/// run on the same machine, so that figures from a loaded machine and an idle one can be compared
/// by their ratio.
public struct BenchBaseline: Sendable {
    /// What the baseline is (`/bin/true spawn`, `write+rename`).
    public var name: String
    /// Its value, in the unit of the figure it sits next to.
    public var value: Double

    /// A baseline called `name` with `value`.
    public init(name: String, value: Double) {
        self.name = name
        self.value = value
    }
}

/// The plain operations the watcher's figures are compared with, measured in-process.
public struct BenchBaselines: Sendable {
    /// `/bin/true` started and waited for, one after the other (`Spawn.run`, as agents start).
    public var spawn: LatencySummary
    /// Plain writes: a temp file written and closed, renamed over the note; no fsync.
    public var writeRename: LatencySummary
    /// The same with the durable path's syncs: temp file fsynced, renamed, folder fsynced.
    public var durableWriteRename: LatencySummary

    /// `/bin/true` spawns per second, one at a time (the floor of a burst run one agent at a time).
    public var spawnsPerSecond: Double { spawn.p50 > 0 ? 1000 / spawn.p50 : .nan }

    /// Measures each baseline `samples` times in `folder` (created; its files are removed after).
    public static func measure(in folder: String, samples: Int = 200) throws -> BenchBaselines {
        try FileSystem.makeDirectories(folder)
        var spawns: [Double] = []
        for _ in 0..<samples {
            spawns.append(try BenchClock.seconds {
                _ = try Spawn.run(Spawn.Options(executable: "/bin/true", stdoutLimit: 0, stderrLimit: 0))
            } * 1000)
        }
        // The size of a small task note, as the burst's writes are.
        let bytes = Array("---\ntype: task\nagent: echo\nstatus: running\nroute_lane: local\n---\nbench baseline\n".utf8)
        let note = folder + "/note.md"
        var plain: [Double] = []
        var durable: [Double] = []
        for i in 0..<samples {
            let temp = folder + "/.tmp-\(i)"
            plain.append(try BenchClock.seconds {
                try Data(bytes).write(to: URL(fileURLWithPath: temp))
                try FileSystem.rename(temp, to: note)
            } * 1000)
            durable.append(try BenchClock.seconds {
                try FileSystem.createDurably(temp, bytes: bytes)
                try FileSystem.rename(temp, to: note)
                try FileSystem.syncDirectory(folder)
            } * 1000)
        }
        try? FileManager.default.removeItem(atPath: folder)
        return BenchBaselines(spawn: LatencySummary(spawns), writeRename: LatencySummary(plain), durableWriteRename: LatencySummary(durable))
    }
}
