import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// The same scenarios against the inotify and the polling watcher.
@Suite struct FileWatcherTests {
    /// A polling pass reports removals first, then additions and changes, each in path order; a
    /// removed folder stands for everything under it; a note that became a folder is a folder added.
    @Test func aPollingPassReportsItsChangesInPathOrder() {
        typealias Entry = PollingWatcher.Entry
        let file = { (mtime: Int64) in Entry(isDirectory: false, mtime: mtime, size: 10) }
        let folder = Entry(isDirectory: true, mtime: 0, size: 0)
        let old: [String: Entry] = [
            "Zeta.md": file(1), "Alpha.md": file(1), "Gone": folder, "Gone/Inner.md": file(1), "Gone/Deeper": folder,
            "Gone/Deeper/Deep.md": file(1), "Kept.md": file(1), "Mid.md": file(1), "Became": file(1), "Old.md": file(1),
        ]
        var new: [String: Entry] = ["Zeta.md": file(2), "Alpha.md": file(1), "Kept.md": file(1), "Mid.md": Entry(isDirectory: false, mtime: 1, size: 11), "Became": folder]
        new["New/Note.md"] = file(3)
        new["New"] = folder
        new["Beta.md"] = file(3)
        let changes = PollingWatcher.diff(old: old, new: new)
        #expect(changes == [
            FileChange("Gone", .removed), FileChange("Old.md", .removed),
            FileChange("Became", .directoryAdded), FileChange("Beta.md", .changed), FileChange("Mid.md", .changed),
            FileChange("New", .directoryAdded), FileChange("New/Note.md", .changed), FileChange("Zeta.md", .changed),
        ])
        #expect(PollingWatcher.diff(old: new, new: new).isEmpty)
    }

    /// A file gone from one path and found at another with the same inode, size and time is a
    /// rename; two files alike pair with nothing, and an unknown inode never pairs.
    @Test func aPollingPassPairsARenameByInodeSizeAndTime() {
        typealias Entry = PollingWatcher.Entry
        let a = Entry(isDirectory: false, mtime: 5, size: 10, inode: 77)
        #expect(PollingWatcher.diff(old: ["Tasks/Untitled.md": a], new: ["Tasks/Real.md": a, "Tasks/Untitled.md": Entry(isDirectory: false, mtime: 9, size: 3, inode: 78)])
                == [FileChange("Tasks/Real.md", .renamed(from: "Tasks/Untitled.md")), FileChange("Tasks/Untitled.md", .changed)])
        // Another file at the new path (a different inode, or changed since): no rename.
        #expect(PollingWatcher.diff(old: ["A.md": a], new: ["B.md": Entry(isDirectory: false, mtime: 6, size: 10, inode: 77)])
                == [FileChange("A.md", .removed), FileChange("B.md", .changed)])
        let unknown = Entry(isDirectory: false, mtime: 5, size: 10)
        #expect(PollingWatcher.diff(old: ["A.md": unknown], new: ["B.md": unknown]) == [FileChange("A.md", .removed), FileChange("B.md", .changed)])
    }

    enum Implementation: String, CaseIterable, CustomTestStringConvertible {
        case inotify, polling
        var testDescription: String { rawValue }
    }

    func makeWatcher(_ implementation: Implementation, root: String) throws -> FileWatcher {
        let watcher: FileWatcher
        switch implementation {
        case .inotify: watcher = InotifyWatcher(root: root)
        case .polling: watcher = PollingWatcher(root: root, interval: 0.05)
        }
        try watcher.start()
        return watcher
    }

    /// Collects batches until nothing arrives for `quiet` seconds (at most `limit` seconds).
    func collect(_ watcher: FileWatcher, quiet: Double = 0.3, limit: Double = 5) -> [FileChange] {
        var all: [FileChange] = []
        let end = Date().addingTimeInterval(limit)
        while Date() < end {
            let batch = watcher.next(timeout: quiet)
            if batch.isEmpty { break }
            all += batch
        }
        return all
    }

    /// Applies changes to a set of existing file paths, the way a caller keeps its index.
    func apply(_ changes: [FileChange], to files: inout Set<String>) {
        for change in changes {
            switch change.kind {
            case .changed: files.insert(change.path)
            case .removed: files = files.filter { !($0 == change.path || $0.hasPrefix(change.path + "/")) }
            case .renamed(let from): files.remove(from); files.insert(change.path)
            case .directoryAdded, .overflow: break
            }
        }
    }

    /// The regular files on disk, relative, skipping dot-names and symlinks.
    func filesOnDisk(_ root: String) -> Set<String> {
        var result: Set<String> = []
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let path = enumerator?.nextObject() as? String {
            if path.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
            if let st = try? FileSystem.status(root + "/" + path), st.kind == .file { result.insert(path) }
        }
        return result
    }

    /// Writes in place like Obsidian: open, several writes, close.
    func writeInPlace(_ path: String, _ parts: [String]) {
        guard let handle = FileHandle(forWritingAtPath: path) ?? {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }() else {
            Issue.record("cannot open \(path) for writing")
            return
        }
        handle.truncateFile(atOffset: 0)
        for part in parts { handle.write(Data(part.utf8)) }
        handle.closeFile()
    }

    @Test(arguments: Implementation.allCases)
    func writeInPlaceGivesOneChange(_ implementation: Implementation) throws {
        let root = TemporaryFolder.make()
        defer { TemporaryFolder.remove(root) }
        PlatformTestSupport.write("old\n", to: root + "/note.md")
        let watcher = try makeWatcher(implementation, root: root)
        defer { watcher.stop() }
        writeInPlace(root + "/note.md", ["---\n", "title: x\n", "---\nbody\n"])
        let changes = collect(watcher)
        #expect(changes == [FileChange("note.md", .changed)])
    }

    @Test(arguments: Implementation.allCases)
    func tempFileThenRenameGivesOneChange(_ implementation: Implementation) throws {
        let root = TemporaryFolder.make()
        defer { TemporaryFolder.remove(root) }
        try FileManager.default.createDirectory(atPath: root + "/Tasks", withIntermediateDirectories: true)
        PlatformTestSupport.write("old\n", to: root + "/Tasks/A.md")
        let watcher = try makeWatcher(implementation, root: root)
        defer { watcher.stop() }
        PlatformTestSupport.write("new\n", to: root + "/Tasks/.fbt-tmp-1")
        rename(root + "/Tasks/.fbt-tmp-1", root + "/Tasks/A.md")
        PlatformTestSupport.write("fresh\n", to: root + "/Tasks/.fbt-tmp-2")
        rename(root + "/Tasks/.fbt-tmp-2", root + "/Tasks/B.md")
        let changes = collect(watcher)
        #expect(changes.count == 2)
        #expect(Set(changes) == [FileChange("Tasks/A.md", .changed), FileChange("Tasks/B.md", .changed)])
    }

    @Test(arguments: Implementation.allCases)
    func newDirectoryWithFilesCreatedRightAfterIsFullyReported(_ implementation: Implementation) throws {
        let root = TemporaryFolder.make()
        defer { TemporaryFolder.remove(root) }
        let watcher = try makeWatcher(implementation, root: root)
        defer { watcher.stop() }
        // No pause between mkdir and the writes: the files exist before the watcher can add the watch.
        try FileManager.default.createDirectory(atPath: root + "/Projects/Deep/Er", withIntermediateDirectories: true)
        var expected: Set<String> = []
        for i in 0..<20 {
            let path = ["Projects", "Projects/Deep", "Projects/Deep/Er"][i % 3] + "/n\(i).md"
            PlatformTestSupport.write("note \(i)\n", to: root + "/" + path)
            expected.insert(path)
        }
        let changes = collect(watcher)
        var files: Set<String> = []
        apply(changes, to: &files)
        #expect(files == expected)
        #expect(changes.contains(FileChange("Projects", .directoryAdded)))
        // And the new folders are watched: a later write there is seen too.
        PlatformTestSupport.write("late\n", to: root + "/Projects/Deep/Er/late.md")
        #expect(collect(watcher) == [FileChange("Projects/Deep/Er/late.md", .changed)])
    }

    @Test(arguments: Implementation.allCases)
    func dotFoldersDotFilesAndSymlinksAreIgnored(_ implementation: Implementation) throws {
        let root = TemporaryFolder.make()
        defer { TemporaryFolder.remove(root) }
        let outside = TemporaryFolder.make()
        defer { TemporaryFolder.remove(outside) }
        try FileManager.default.createDirectory(atPath: root + "/.obsidian", withIntermediateDirectories: true)
        let watcher = try makeWatcher(implementation, root: root)
        defer { watcher.stop() }
        PlatformTestSupport.write("{}", to: root + "/.obsidian/workspace.json")
        PlatformTestSupport.write("x", to: root + "/.hidden.md")
        try FileManager.default.createDirectory(atPath: root + "/.trash/old", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/linked", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: root + "/link.md", withDestinationPath: outside + "/target.md")
        PlatformTestSupport.write("outside", to: outside + "/target.md")
        PlatformTestSupport.write("visible", to: root + "/seen.md")
        #expect(collect(watcher) == [FileChange("seen.md", .changed)])
    }

    @Test(arguments: Implementation.allCases)
    func removedDirectoryIsReportedAndItsWatchesDropped(_ implementation: Implementation) throws {
        let root = TemporaryFolder.make()
        defer { TemporaryFolder.remove(root) }
        try FileManager.default.createDirectory(atPath: root + "/Old/Sub", withIntermediateDirectories: true)
        PlatformTestSupport.write("a", to: root + "/Old/Sub/a.md")
        PlatformTestSupport.write("b", to: root + "/keep.md")
        let watcher = try makeWatcher(implementation, root: root)
        defer { watcher.stop() }
        if let inotify = watcher as? InotifyWatcher { #expect(inotify.watchCount == 3) }
        try FileManager.default.removeItem(atPath: root + "/Old")
        let changes = collect(watcher)
        var files: Set<String> = ["Old/Sub/a.md", "keep.md"]
        apply(changes, to: &files)
        #expect(files == ["keep.md"])
        #expect(changes.contains(FileChange("Old", .removed)))
        if let inotify = watcher as? InotifyWatcher { #expect(inotify.watchCount == 1) }
    }

    @Test func fileRenamesArePairedByCookie() throws {
        let root = TemporaryFolder.make()
        defer { TemporaryFolder.remove(root) }
        try FileManager.default.createDirectory(atPath: root + "/Tasks", withIntermediateDirectories: true)
        PlatformTestSupport.write("a", to: root + "/Tasks/a.md")
        PlatformTestSupport.write("b", to: root + "/b.md")
        let watcher = InotifyWatcher(root: root)
        try watcher.start()
        defer { watcher.stop() }
        rename(root + "/Tasks/a.md", root + "/Tasks/renamed.md")
        rename(root + "/b.md", root + "/Tasks/b.md")
        let changes = collect(watcher)
        #expect(Set(changes) == [FileChange("Tasks/renamed.md", .renamed(from: "Tasks/a.md")), FileChange("Tasks/b.md", .renamed(from: "b.md"))])
    }

    @Test func movesInAndOutOfTheTreeAreUnpaired() throws {
        let root = TemporaryFolder.make()
        defer { TemporaryFolder.remove(root) }
        let outside = TemporaryFolder.make()
        defer { TemporaryFolder.remove(outside) }
        PlatformTestSupport.write("a", to: root + "/leaving.md")
        PlatformTestSupport.write("b", to: outside + "/arriving.md")
        try FileManager.default.createDirectory(atPath: outside + "/Folder", withIntermediateDirectories: true)
        PlatformTestSupport.write("c", to: outside + "/Folder/inside.md")
        let watcher = InotifyWatcher(root: root)
        try watcher.start()
        defer { watcher.stop() }
        rename(root + "/leaving.md", outside + "/left.md")
        rename(outside + "/arriving.md", root + "/arrived.md")
        rename(outside + "/Folder", root + "/Folder")
        let changes = collect(watcher)
        #expect(Set(changes) == [
            FileChange("leaving.md", .removed), FileChange("arrived.md", .changed),
            FileChange("Folder", .directoryAdded), FileChange("Folder/inside.md", .changed),
        ])
    }

    @Test func renamedDirectoryKeepsWatchingUnderItsNewName() throws {
        let root = TemporaryFolder.make()
        defer { TemporaryFolder.remove(root) }
        try FileManager.default.createDirectory(atPath: root + "/Before/Inner", withIntermediateDirectories: true)
        PlatformTestSupport.write("x", to: root + "/Before/Inner/x.md")
        let watcher = InotifyWatcher(root: root)
        try watcher.start()
        defer { watcher.stop() }
        rename(root + "/Before", root + "/After")
        let changes = collect(watcher)
        var files: Set<String> = ["Before/Inner/x.md"]
        apply(changes, to: &files)
        #expect(files == ["After/Inner/x.md"])
        PlatformTestSupport.write("y", to: root + "/After/Inner/y.md")
        #expect(collect(watcher) == [FileChange("After/Inner/y.md", .changed)])
        #expect(watcher.watchCount == 3)
    }

    @Test func injectedOverflowIsReportedOnceAndLostWatchesAreRestored() throws {
        let root = TemporaryFolder.make()
        defer { TemporaryFolder.remove(root) }
        try FileManager.default.createDirectory(atPath: root + "/Lost", withIntermediateDirectories: true)
        let watcher = InotifyWatcher(root: root)
        try watcher.start()
        defer { watcher.stop() }
        watcher.simulateLostWatch("Lost")
        #expect(watcher.watchCount == 1)
        // What read(2) returns when the queue overflowed: one IN_Q_OVERFLOW record with wd -1, thrice.
        let buffer = InotifyTests.encode([
            Inotify.Event(watch: -1, mask: .queueOverflow), Inotify.Event(watch: -1, mask: .queueOverflow),
            Inotify.Event(watch: -1, mask: .queueOverflow),
        ])
        watcher.ingest(Inotify.decode(buffer), now: watcher.now())
        #expect(collect(watcher) == [FileChange("", .overflow)])
        #expect(watcher.watchCount == 2)
        PlatformTestSupport.write("z", to: root + "/Lost/z.md")
        #expect(collect(watcher) == [FileChange("Lost/z.md", .changed)])
    }

    /// A save that ends in a close (in place, as Obsidian writes) or a rename into place is reported
    /// without waiting for the debounce; a write with no close yet waits for it. The watcher's clock is
    /// frozen and the kernel's events are injected, so the rule is checked without timing anything.
    @Test func aClosedOrRenamedWriteIsReportedAtOnceAnOpenWriteAfterTheDebounce() throws {
        let root = TemporaryFolder.make()
        defer { TemporaryFolder.remove(root) }
        for name in ["closed.md", "open.md", "moved.md"] { PlatformTestSupport.write("x\n", to: root + "/" + name) }
        let watcher = InotifyWatcher(root: root, debounce: 0.02)
        let clock = Locked(100.0)
        watcher.now = { clock.withLock { $0 } }
        try watcher.start()
        defer { watcher.stop() }
        let rootWatch: Int32 = 1 // the first watch of a fresh inotify instance
        watcher.ingest([
            Inotify.Event(watch: rootWatch, mask: .modify, name: "closed.md"),
            Inotify.Event(watch: rootWatch, mask: .closeWrite, name: "closed.md"),
            Inotify.Event(watch: rootWatch, mask: .modify, name: "open.md"),
            Inotify.Event(watch: rootWatch, mask: .movedTo, cookie: 9, name: "moved.md"),
        ], now: 100)
        #expect(Set(watcher.next(timeout: 0)) == [FileChange("closed.md", .changed), FileChange("moved.md", .changed)])
        #expect(watcher.next(timeout: 0).isEmpty)
        clock.withLock { $0 = 100.02 }
        #expect(watcher.next(timeout: 0) == [FileChange("open.md", .changed)])
    }

    @Test func pollingAndInotifyAgreeOnTheFinalSet() throws {
        let root = TemporaryFolder.make()
        defer { TemporaryFolder.remove(root) }
        try FileManager.default.createDirectory(atPath: root + "/Tasks/Done", withIntermediateDirectories: true)
        for i in 0..<5 { PlatformTestSupport.write("n\(i)", to: root + "/Tasks/n\(i).md") }
        PlatformTestSupport.write("d", to: root + "/Tasks/Done/d.md")
        let initial = filesOnDisk(root)
        let inotify = try makeWatcher(.inotify, root: root)
        let polling = try makeWatcher(.polling, root: root)
        defer { inotify.stop(); polling.stop() }

        writeInPlace(root + "/Tasks/n0.md", ["changed", " in place"])
        rename(root + "/Tasks/n1.md", root + "/Tasks/Done/n1.md")
        unlink(root + "/Tasks/n2.md")
        PlatformTestSupport.write("tmp", to: root + "/Tasks/.fbt-x")
        rename(root + "/Tasks/.fbt-x", root + "/Tasks/n3.md")
        try FileManager.default.createDirectory(atPath: root + "/Memory/Facts", withIntermediateDirectories: true)
        PlatformTestSupport.write("fact", to: root + "/Memory/Facts/f.md")
        rename(root + "/Tasks/Done", root + "/Archive")
        try FileManager.default.removeItem(atPath: root + "/Archive/d.md")
        PlatformTestSupport.write("new", to: root + "/Archive/new.md")

        var viaInotify = initial
        apply(collect(inotify), to: &viaInotify)
        var viaPolling = initial
        apply(collect(polling), to: &viaPolling)
        let truth = filesOnDisk(root)
        #expect(truth == ["Tasks/n0.md", "Tasks/n3.md", "Tasks/n4.md", "Archive/n1.md", "Archive/new.md", "Memory/Facts/f.md"])
        #expect(viaInotify == truth)
        #expect(viaPolling == truth)
    }

    @Test(arguments: Implementation.allCases)
    func aBurstOfAThousandNotesIsReportedOncePerNote(_ implementation: Implementation) throws {
        let root = TemporaryFolder.make()
        defer { TemporaryFolder.remove(root) }
        try FileManager.default.createDirectory(atPath: root + "/Tasks", withIntermediateDirectories: true)
        let watcher = try makeWatcher(implementation, root: root)
        defer { watcher.stop() }
        var expected: Set<String> = []
        for i in 0..<1000 {
            writeInPlace(root + "/Tasks/task-\(i).md", ["---\n", "status: new\n", "---\nDo \(i)\n"])
            expected.insert("Tasks/task-\(i).md")
        }
        let changes = collect(watcher)
        // One per note; a writer descheduled for longer than the debounce mid-save may cause a second.
        #expect(changes.count >= 1000 && changes.count < 1050)
        #expect(Set(changes.map(\.path)) == expected)
        #expect(changes.allSatisfy { $0.kind == .changed })
    }

    @Test(arguments: Implementation.allCases)
    func aMissingRootIsAnError(_ implementation: Implementation) {
        #expect(throws: (any Error).self) { try makeWatcher(implementation, root: "/nonexistent/fbt-vault") }
    }

    @Test(arguments: Implementation.allCases)
    func stopFromAnotherThreadWakesNext(_ implementation: Implementation) throws {
        let root = TemporaryFolder.make()
        defer { TemporaryFolder.remove(root) }
        let watcher = try makeWatcher(implementation, root: root)
        let shared = watcher
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.1) { shared.stop() }
        let started = Date()
        #expect(watcher.next(timeout: 30).isEmpty)
        #expect(Date().timeIntervalSince(started) < 25)
        PlatformTestSupport.write("after stop", to: root + "/x.md")
        #expect(watcher.next(timeout: 0.2).isEmpty)
    }
}

@Suite struct ChangeCoalescerTests {
    @Test func eventsOfOneSaveFoldIntoOneChangeAfterTheDebounce() {
        var c = ChangeCoalescer(debounce: 0.02)
        c.add("a.md", .changed, now: 0)
        c.add("a.md", .changed, now: 0.01)
        c.add("a.md", .changed, now: 0.015)
        #expect(c.takeDue(now: 0.03).isEmpty)
        #expect(c.nextDeadline == 0.035)
        #expect(c.takeDue(now: 0.035) == [FileChange("a.md", .changed)])
        #expect(c.nextDeadline == nil)
    }

    @Test func aCloseEndsTheWaitAndAWriteAfterItStartsItAgain() {
        var c = ChangeCoalescer(debounce: 0.02)
        c.add("a.md", .changed, now: 0)
        #expect(c.takeDue(now: 0.001).isEmpty)
        c.add("a.md", .changed, now: 0.001, complete: true)
        #expect(c.nextDeadline == 0.001)
        #expect(c.takeDue(now: 0.001) == [FileChange("a.md", .changed)])
        // Closed, then opened for writing again before it was taken: the debounce applies again.
        c.add("b.md", .changed, now: 1, complete: true)
        c.add("b.md", .changed, now: 1.001)
        #expect(c.takeDue(now: 1.001).isEmpty)
        #expect(c.takeDue(now: 1.021) == [FileChange("b.md", .changed)])
    }

    @Test func aPathThatKeepsChangingIsStillReported() {
        var c = ChangeCoalescer(debounce: 0.02)
        var t = 0.0
        var reported: [FileChange] = []
        while t < 0.5 {
            c.add("log.md", .changed, now: t)
            reported += c.takeDue(now: t)
            t += 0.01
        }
        #expect(reported.count >= 2)
    }

    @Test func kindsMergeSensibly() {
        var c = ChangeCoalescer(debounce: 0.02)
        c.add("x", .changed, now: 0); c.add("x", .removed, now: 0)
        c.add("y", .removed, now: 0); c.add("y", .changed, now: 0)
        c.add("z", .renamed(from: "w"), now: 0); c.add("z", .changed, now: 0)
        c.add("r", .renamed(from: "q"), now: 0); c.add("r", .removed, now: 0)
        let due = Set(c.takeDue(now: 1))
        // y was removed, then made again: a new file, and said so.
        var remade = FileChange("y", .changed)
        remade.wasRemoved = true
        #expect(due == [FileChange("x", .removed), remade, FileChange("z", .renamed(from: "w")),
                        FileChange("r", .removed), FileChange("q", .removed)])
    }

    @Test func overflowStormsBackOff() {
        var c = ChangeCoalescer(debounce: 0.02, overflowBackoff: 1, overflowBackoffLimit: 4, overflowQuietReset: 100)
        c.addOverflow(now: 0)
        #expect(c.takeDue(now: 0) == [FileChange("", .overflow)])
        var emitted = 0
        var t = 0.0
        // A storm: an overflow every 100 ms for 10 s gives reconciles at 1, 3, 7 s … not 100 of them.
        while t < 10 {
            t += 0.1
            c.addOverflow(now: t)
            emitted += c.takeDue(now: t).filter { $0.kind == .overflow }.count
        }
        #expect(emitted >= 2 && emitted <= 4)
        // A quiet spell resets the back-off: the next overflow is reported at once.
        var quiet = ChangeCoalescer(debounce: 0.02, overflowBackoff: 1, overflowBackoffLimit: 60, overflowQuietReset: 5)
        quiet.addOverflow(now: 0)
        #expect(quiet.takeDue(now: 0).count == 1)
        quiet.addOverflow(now: 100)
        #expect(quiet.takeDue(now: 100).count == 1)
    }
}

@Suite struct InotifyTests {
    /// Builds what read(2) returns for these events: header plus a NUL-padded name, 4-byte aligned.
    static func encode(_ events: [Inotify.Event]) -> [UInt8] {
        var bytes: [UInt8] = []
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        for event in events {
            let name = Array(event.name.utf8)
            let length = event.name.isEmpty ? 0 : (name.count + 1 + 3) / 4 * 4
            append(event.watch)
            append(event.mask.rawValue)
            append(event.cookie)
            append(UInt32(length))
            bytes += name + [UInt8](repeating: 0, count: length - name.count)
        }
        return bytes
    }

    @Test func decodesVariableLengthRecords() {
        let events = [
            Inotify.Event(watch: 1, mask: [.create], name: "note.md"),
            Inotify.Event(watch: 2, mask: [.movedFrom, .isDirectory], cookie: 77, name: "Ein Ordner mit Ümlaut"),
            Inotify.Event(watch: -1, mask: .queueOverflow),
            Inotify.Event(watch: 1, mask: .closeWrite, name: "abc"),
        ]
        #expect(Inotify.decode(InotifyTests.encode(events)) == events)
        // A record cut short at the end of the buffer is dropped, not misread.
        let cut = Array(InotifyTests.encode(events).dropLast(2))
        #expect(Inotify.decode(cut) == Array(events.prefix(3)))
    }

    @Test func watchLimitMessageSaysHowToRaiseIt() {
        let error = InotifyError.watchLimit(path: "/vault/Tasks", current: 8192)
        #expect(error.description.contains("sudo sysctl fs.inotify.max_user_watches=524288"))
        #expect(error.description.contains("/vault/Tasks"))
        #expect(error.description.contains("8192"))
        #expect(!error.description.contains("\n"))
    }

    @Test func addWatchRefusesSymlinksAndFiles() throws {
        let root = TemporaryFolder.make()
        defer { TemporaryFolder.remove(root) }
        try FileManager.default.createDirectory(atPath: root + "/real", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: root + "/real")
        PlatformTestSupport.write("x", to: root + "/file")
        let fd = try Inotify.makeInstance()
        defer { Descriptor.close(fd) }
        #expect(try Inotify.addWatch(fd, path: root + "/real") > 0)
        #expect(throws: InotifyError.self) { try Inotify.addWatch(fd, path: root + "/link") }
        #expect(throws: InotifyError.self) { try Inotify.addWatch(fd, path: root + "/file") }
    }

    @Test func readsRealEvents() throws {
        let root = TemporaryFolder.make()
        defer { TemporaryFolder.remove(root) }
        let fd = try Inotify.makeInstance()
        defer { Descriptor.close(fd) }
        let wd = try Inotify.addWatch(fd, path: root)
        // Created in place (FileManager.createFile would write a temp file and rename it).
        Descriptor.close(open(root + "/made.md", O_CREAT | O_WRONLY | O_CLOEXEC, 0o644))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
        defer { buffer.deallocate() }
        _ = try Descriptor.poll([(fd, .readable)], timeout: 2)
        let events = try Inotify.readEvents(fd, buffer: buffer)
        #expect(events.first == Inotify.Event(watch: wd, mask: .create, name: "made.md"))
        #expect(events.contains { $0.mask.contains(.closeWrite) && $0.name == "made.md" })
    }
}
