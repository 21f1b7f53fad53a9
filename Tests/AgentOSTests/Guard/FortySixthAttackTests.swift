import Foundation
import Testing
import TestSupport
@testable import AgentOS

/// The fiftieth round of outside attacks and what round 49 left (`/work/attack93-report.md` and
/// later), each finding written as the attack it was.
@Suite struct FortySixthAttackTests {
    /// Attack (round 49, medium): a flag named in code and a word of prose after it — ``Pass
    /// `--password` per the docs`` — read as a password assignment once markup was taken out, which
    /// happens for the whole text when any of it (`**Add this password**.`) joins two tokens: two
    /// notes of the Obsidian Help vault side by side blocked a task. A value outside the code span
    /// of its key must look like a credential by itself.
    @Test func aFlagInCodeThenAWordIsNoPassword() {
        let scanner = SecretScanner()
        for text in ["Click **Add this password**.\nPass `--password` per the docs.\n",
                     "Click **Add this password**.\nPasse `--email` e/o `--password` per accedere di nuovo.\n",
                     "Use **Settings**tab, then `--token` from the list.\n"] {
            #expect(scanner.scan(text).isEmpty, "\(text.debugDescription) → \(scanner.scan(text))")
        }
        // Still found: a value that looks like one, inside the code span or after it, and a flag in prose.
        for text in ["Click **Add this password**.\nPass `--password` hunter2222 here.\n",
                     "Click **Add this password**.\nRun `mysql --password hunter22` now.\n",
                     "Run mysql --password swordfish now.\n",
                     "Run `mysql --password` `Zq8vLp2mRt` now, **then**x.\n"] {
            #expect(!scanner.scan(text).isEmpty, "\(text.debugDescription)")
        }
    }

    /// Attack (round 49, medium): retrieved pieces were judged one by one, the whole prompt after
    /// they were joined; what two pieces made together blocked the task, for text the person did not
    /// write. The packet is judged whole as the router judges it: a retrieved piece a finding touches
    /// is left out, counted, never sent, and the task runs.
    @Test func twoRetrievedPiecesTogetherLeaveOneOutInsteadOfBlocking() throws {
        let v = RouteTestVault()
        // Alone, neither note holds a secret: the second only reads as one beside the first, whose
        // `**Settings**tab` makes the scanner read the whole text without its markup.
        v.write("Notes/Alpha.md", "Open the zebra widget from its **Settings**tab.\n")
        v.write("Notes/Beta.md", "Pass `--password` zebra2222 for the zebra widget.\n")
        let scanner = SecretScanner()
        #expect(scanner.scan("Open the zebra widget from its **Settings**tab.\n").isEmpty)
        #expect(scanner.scan("Pass `--password` zebra2222 for the zebra widget.\n").isEmpty)
        #expect(!scanner.scan("Pass `--password` zebra2222 for the zebra widget.\nOpen the zebra widget from its **Settings**tab.\n").isEmpty)
        v.write("Tasks/Zebra.md", "---\ntype: task\nagent: claude\n---\nExplain the zebra widget.\n")
        _ = try MemoryIndex(vault: v.vault).reconcile()
        let (plan, packet) = try PrivacyTaintTests.plan(v.vault, "Tasks/Zebra.md")
        #expect(PrivacyTaintTests.isPremiumRun(plan), "\(plan.action) \(plan.reason)")
        #expect(!plan.prompt.contains("zebra2222"), "\(plan.prompt)")
        #expect(plan.prompt.contains("Settings"), "the other piece still goes: \(plan.prompt)")
        #expect(packet.leftOut.contains { $0.kind == .memory && $0.reason == .secret(["password assignment"]) }, "\(packet.leftOut)")
        let verdicts = plan.extraProperties.first { $0.key == "route_verdicts" }.map { "\($0.value)" } ?? ""
        #expect(verdicts.contains("left out 1 retrieved piece: 1 holding a secret (password assignment)"), "\(verdicts)")
    }

    /// The same pieces in a task kept on this machine go as they are: nothing leaves it.
    @Test func aLocalPacketKeepsBothPieces() throws {
        let v = RouteTestVault()
        v.write("Notes/Alpha.md", "Open the zebra widget from its **Settings**tab.\n")
        v.write("Notes/Beta.md", "Pass `--password` zebra2222 for the zebra widget.\n")
        v.write("Tasks/Zebra.md", "---\ntype: task\nagent: echo\nlane: local\n---\nExplain the zebra widget.\n")
        _ = try MemoryIndex(vault: v.vault).reconcile()
        let (plan, _) = try PrivacyTaintTests.plan(v.vault, "Tasks/Zebra.md")
        #expect(plan.prompt.contains("zebra2222") && plan.prompt.contains("Settings"), "\(plan.prompt)")
    }

    /// Attack (round 49, low): `note set` on a note another process keeps open for writing waited
    /// 2 s to read and 2 s to write on each of its five tries, and then said the note had "changed
    /// on disk since it was read" — nothing had. The tries share one wait, and the error says why.
    @Test func aPropertyChangeOnANoteHeldOpenSaysSoAfterOneWait() throws {
        let env = try EngineTestVault()
        let path = env.vault.root + "/Tasks/Held.md"
        let text = "---\ntype: task\nstatus: draft\n---\nHeld.\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        // Where leases cannot tell (a file system or owner that does not allow them), there is no wait.
        guard FileSystem.waitUntilNoWriters(path, timeout: 0) == false else { return }
        var store = NoteStore(vault: env.vault)
        let tries = Locked(0)
        store.beforeConditionalWrite = { _ in tries.withLock { $0 += 1 } }
        do {
            try store.updateProperties("Tasks/Held.md", set: [Property("priority", .string("low"))])
            Issue.record("the note was replaced while a process wrote into it")
        } catch {
            #expect("\(error)".contains("another program keeps it open for writing"), "\(error)")
        }
        #expect(tries.withLock { $0 } == 1, "tried \(tries.withLock { $0 }) times")
        #expect(String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self) == text)
        try handle.close()
        try store.updateProperties("Tasks/Held.md", set: [Property("priority", .string("low"))])
        #expect(try Note.parse(bytes: store.read("Tasks/Held.md").bytes).text("priority") == "low")
    }
}
