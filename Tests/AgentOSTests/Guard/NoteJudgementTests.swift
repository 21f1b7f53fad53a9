import Foundation
import Testing
@testable import AgentOS

/// Privacy judgements kept per note between packets (`NoteJudgement`): a kept one is used only for
/// the very bytes and private tags and folders it was made for, so no edit, however small, and no
/// change of the guardrails is ever judged by an older version.
@Suite struct NoteJudgementTests {
    let temp: TemporaryVault
    let store: NoteStore

    init() throws {
        temp = try TemporaryVault()
        store = NoteStore(vault: temp.vault)
    }

    func judge(_ path: String, _ guardrails: Guardrails = Guardrails()) -> String? {
        Privacy.reason(ofNoteAt: path, store: store, guardrails: guardrails)
    }

    @Test func anEditOfTheSameSizeIsJudgedAnew() throws {
        try temp.write("Memory/Plan.md", "---\nprivacy: public\n---\nThe plan.\n")
        #expect(judge("Memory/Plan.md") == nil)
        #expect(judge("Memory/Plan.md") == nil, "judged again from what was kept")
        // Same length, same folder, written within the same second: only the bytes differ.
        try temp.write("Memory/Plan.md", "---\nprivacy: secret\n---\nThe plan.\n")
        #expect(judge("Memory/Plan.md") == "privacy: secret")
        try temp.write("Memory/Plan.md", "---\nprivacy: public\n---\nThe plan #private\n")
        #expect(judge("Memory/Plan.md") == "tagged #private")
        try temp.write("Memory/Plan.md", "---\nprivacy: [nope\n---\nThe plan.\n")
        #expect(judge("Memory/Plan.md") == "frontmatter cannot be parsed to check its privacy")
    }

    @Test func newPrivateTagsAndFoldersApplyToNotesJudgedBefore() throws {
        try temp.write("Memory/Checkup.md", "---\ntags: [health]\n---\nBlood test on Friday.\n")
        try temp.write("Clinic/Letter.md", "A letter.\n")
        #expect(judge("Memory/Checkup.md") == nil)
        #expect(judge("Clinic/Letter.md") == nil)
        var stricter = Guardrails()
        stricter.privateTags.append("health")
        stricter.privateFolders.append("Clinic")
        #expect(judge("Memory/Checkup.md", stricter) == "tagged #health")
        #expect(judge("Clinic/Letter.md", stricter) == "under Clinic/")
        #expect(judge("Memory/Checkup.md") == nil, "the default guardrails again")
    }

    @Test func aResultKeptAsPublicIsPrivateOnceItsTaskIs() throws {
        try temp.write("Tasks/Ask.md", "---\ntype: task\nstatus: done\n---\nAsk something.\n")
        try temp.write("Results/Ask 1.md", "---\ntype: result\ntask: \"[[Tasks/Ask]]\"\n---\nThe answer.\n")
        #expect(judge("Results/Ask 1.md") == nil)
        // The result's bytes do not change; the task it is made from turns private.
        try temp.write("Tasks/Ask.md", "---\ntype: task\nstatus: done\nprivacy: private\n---\nAsk something.\n")
        #expect(judge("Results/Ask 1.md") == Privacy.derivedReasonPrefix + "Tasks/Ask.md")
        // And a task that pulls in a note that turns private.
        try temp.write("Tasks/Pull.md", "---\ntype: task\nstatus: done\n---\nSee [[Memory/Diary]].\n")
        try temp.write("Memory/Diary.md", "Dear diary.\n")
        #expect(judge("Tasks/Pull.md") == nil)
        try temp.write("Memory/Diary.md", "Dear diary. #private\n")
        #expect(judge("Tasks/Pull.md") == Privacy.derivedReasonPrefix + "Memory/Diary.md")
    }

    @Test func whatIsKeptIsBoundedAndEveryNoteStillJudgedRight() throws {
        let count = NoteJudgement.keptLimit + 40
        for i in 0..<count {
            try temp.write("Memory/N\(i).md", i % 3 == 0 ? "---\nprivacy: private\n---\nnote \(i)\n" : "note \(i)\n")
        }
        for _ in 0..<2 {
            for i in 0..<count {
                #expect((judge("Memory/N\(i).md") != nil) == (i % 3 == 0), "Memory/N\(i).md")
            }
        }
        #expect(NoteJudgement.keptCount <= NoteJudgement.keptLimit)
    }
    /// A file status `seconds` old (change and modification time) of a note of `size` bytes.
    static func status(size: Int64, changed nanoseconds: Int64, inode: UInt64 = 7) -> FileStatus {
        var status = FileStatus(kind: .file, size: size, mtimeNanoseconds: nanoseconds, mode: 0o644, ownerUID: 0)
        status.ctimeNanoseconds = nanoseconds
        status.inode = inode
        return status
    }

    @Test func aSettledNoteIsJudgedByItsStatusUntilAnythingOfItChanges() {
        let bytes = Array("---\nprivacy: private\n---\nBank.\n".utf8)
        let now = FileSystem.realtimeNanoseconds()
        let old = Self.status(size: Int64(bytes.count), changed: now - 10_000_000_000)
        let path = "Memory/Settled \(UUID().uuidString).md"
        let judged = NoteJudgement.of(NoteSnapshot(relativePath: path, bytes: bytes, hash: ContentHash(of: bytes), status: old), at: path, guardrails: Guardrails(), readAt: now)
        #expect(judged.own == "privacy: private")
        #expect(NoteJudgement.settled(at: path, status: old, guardrails: Guardrails())?.own == "privacy: private")
        // Any change of the file: its change time, size, inode or link count.
        var changed = old
        changed.ctimeNanoseconds += 1
        #expect(NoteJudgement.settled(at: path, status: changed, guardrails: Guardrails()) == nil)
        #expect(NoteJudgement.settled(at: path, status: Self.status(size: old.size + 1, changed: old.ctimeNanoseconds), guardrails: Guardrails()) == nil)
        #expect(NoteJudgement.settled(at: path, status: Self.status(size: old.size, changed: old.ctimeNanoseconds, inode: 8), guardrails: Guardrails()) == nil)
        changed = old
        changed.linkCount = 2
        #expect(NoteJudgement.settled(at: path, status: changed, guardrails: Guardrails()) == nil)
        // Other private tags or folders.
        var stricter = Guardrails()
        stricter.privateFolders.append("Memory")
        #expect(NoteJudgement.settled(at: path, status: old, guardrails: stricter) == nil)
        // Another path.
        #expect(NoteJudgement.settled(at: path + "x", status: old, guardrails: Guardrails()) == nil)
        // A file time far in the past (rsync, tar, `touch -d @-8000000000`) is compared without overflow.
        let ancient = Self.status(size: Int64(bytes.count), changed: -8_000_000_000_000_000_000)
        _ = NoteJudgement.of(NoteSnapshot(relativePath: path, bytes: bytes, hash: ContentHash(of: bytes), status: ancient), at: path, guardrails: Guardrails(), readAt: now)
        #expect(NoteJudgement.settled(at: path, status: ancient, guardrails: Guardrails())?.own == "privacy: private")
    }

    @Test func aNoteChangedJustBeforeItWasReadIsReadAgainEachTime() {
        let bytes = Array("Plain.\n".utf8)
        let now = FileSystem.realtimeNanoseconds()
        let path = "Memory/Racy \(UUID().uuidString).md"
        // Changed a second before the read: a write in the same coarse clock tick as the judged one
        // could keep this status, so the status alone proves nothing.
        let recent = Self.status(size: Int64(bytes.count), changed: now - 1_000_000_000)
        _ = NoteJudgement.of(NoteSnapshot(relativePath: path, bytes: bytes, hash: ContentHash(of: bytes), status: recent), at: path, guardrails: Guardrails(), readAt: now)
        #expect(NoteJudgement.settled(at: path, status: recent, guardrails: Guardrails()) == nil)
        // Read again later with the same bytes and status: now the status has lasted long enough.
        _ = NoteJudgement.of(NoteSnapshot(relativePath: path, bytes: bytes, hash: ContentHash(of: bytes), status: recent), at: path, guardrails: Guardrails(), readAt: now + NoteJudgement.settleNanoseconds)
        #expect(NoteJudgement.settled(at: path, status: recent, guardrails: Guardrails()) != nil)
        // A judgement made without knowing when the bytes were read is never reused by status.
        let unknown = "Memory/Unknown \(UUID().uuidString).md"
        let old = Self.status(size: Int64(bytes.count), changed: now - 10_000_000_000)
        _ = NoteJudgement.of(NoteSnapshot(relativePath: unknown, bytes: bytes, hash: ContentHash(of: bytes), status: old), at: unknown, guardrails: Guardrails())
        #expect(NoteJudgement.settled(at: unknown, status: old, guardrails: Guardrails()) == nil)
    }

    @Test func aSettledPublicNoteRewrittenPrivateIsPrivateAtOnce() throws {
        // The attack: a note judged public long after its last change, then turned private by a
        // write that keeps its size — by rename, in place, and with its modification time put back.
        try temp.write("Memory/Plan.md", "The plan, shared.\n")
        try temp.write("Memory/Inplace.md", "The plan, shared.\n")
        try temp.write("Memory/Touched.md", "The plan, shared.\n")
        Thread.sleep(forTimeInterval: Double(NoteJudgement.settleNanoseconds) / 1e9 + 0.2)
        for path in ["Memory/Plan.md", "Memory/Inplace.md", "Memory/Touched.md"] {
            #expect(judge(path) == nil)
            #expect(judge(path) == nil, "judged from its status")
        }
        try temp.write("Memory/Plan.md", "The plan #private\n")
        let inplace = temp.vault.root + "/Memory/Inplace.md"
        let handle = try #require(FileHandle(forWritingAtPath: inplace))
        try handle.write(contentsOf: Data("The plan #private\n".utf8))
        try handle.close()
        let touched = temp.vault.root + "/Memory/Touched.md"
        let before = try FileManager.default.attributesOfItem(atPath: touched)[.modificationDate] as? Date
        try Data("The plan #private\n".utf8).write(to: URL(fileURLWithPath: touched))
        try FileManager.default.setAttributes([.modificationDate: try #require(before)], ofItemAtPath: touched)
        for path in ["Memory/Plan.md", "Memory/Inplace.md", "Memory/Touched.md"] {
            #expect(judge(path) == "tagged #private", "\(path)")
        }
    }
    /// A note dated before 1677 or after 2262 (a valid `touch -d @-20000000000`): its times were
    /// multiplied out to nanoseconds and overflowed, which stopped the process; now it is judged.
    @Test func aNoteDatedCenturiesAwayIsJudgedWithoutOverflow() throws {
        try temp.write("Memory/Ancient.md", "---\nprivacy: private\n---\nOld.\n")
        try temp.write("Memory/Future.md", "Public.\n")
        var times = [timespec(tv_sec: -20_000_000_000, tv_nsec: 0), timespec(tv_sec: -20_000_000_000, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, temp.vault.root + "/Memory/Ancient.md", &times, 0) == 0)
        times = [timespec(tv_sec: 20_000_000_000, tv_nsec: 999_999_999), timespec(tv_sec: 20_000_000_000, tv_nsec: 999_999_999)]
        #expect(utimensat(AT_FDCWD, temp.vault.root + "/Memory/Future.md", &times, 0) == 0)
        for _ in 0..<2 {
            #expect(judge("Memory/Ancient.md") == "privacy: private")
            #expect(judge("Memory/Future.md") == nil)
        }
        #expect(try FileSystem.status(temp.vault.root + "/Memory/Ancient.md")?.mtimeNanoseconds ?? 0 < 0)
    }
}
