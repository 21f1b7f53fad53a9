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
}
