import AgentOS
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// Many writers on one note, in threads of this process and in two `fuckbigtech` processes at once,
/// all going through `NoteStore.update` with nothing but its folder lock between them: no write that
/// reports success is lost, and none lands twice. (The vault-wide lock `StaleMemoryGuard` once took
/// around its writes is gone; this is the lost update it was there to prevent.)
@Suite struct ConcurrentWritersEndToEndTests {
    static let note = "Memory/Busy.md"

    /// Starts `/bin/sh` running `fuckbigtech note set NOTE KEY<i>=<i>` for i in 1...count, each retried
    /// until it succeeds (a refusal after too many lost races is honest: nothing was written), 600 times
    /// at most: then the loop exits 1.
    static func setLoop(key: String, count: Int, sandbox: EndToEndTests.Sandbox, binary: String, environment: [String: String]) throws -> ChildProcess {
        let script = """
        i=1
        while [ $i -le \(count) ]; do
          n=0
          # From within a run, an edit goes with the hash of the version read (merged over the others' writes);
          # read here as a person would (a run is shown no note that changes under its read, and this one always does).
          until { [ -z "${FBT_RUN_ID:-}" ] || read_hash=$(env -u FBT_RUN_ID "$FBT" note show "\(note)" --json --vault "$VAULT" | grep -o '"hash": *"[0-9a-f]*"' | cut -d'"' -f4); } &&
                "$FBT" note set "\(note)" "\(key)$i=$i" ${FBT_RUN_ID:+--expect "$read_hash"} --vault "$VAULT" >/dev/null 2>&1; do
            n=$((n+1)); [ $n -lt 600 ] || exit 1
          done
          i=$((i+1))
        done
        """
        return try ChildProcess("/bin/sh", ["-c", script],
                                environment: ["PATH": "/usr/bin:/bin", "HOME": sandbox.home, "FBT": binary, "VAULT": sandbox.vault].merging(environment) { $1 })
    }

    @Test func everyAppendAndEveryPropertyFromThreadsAndTwoProcessesLandsExactlyOnce() throws {
        let binary = try BuiltBinary.path()
        let sandbox = try EndToEndTests.Sandbox()
        try FileManager.default.createDirectory(atPath: sandbox.vault + "/.obsidian", withIntermediateDirectories: true)
        let store = NoteStore(vault: Vault(root: sandbox.vault))
        try store.create("---\ntype: memory\n---\n# Busy\n\n", at: Self.note)

        // Two processes: a plain `note set`, and one from within a run (the guarded write, which used
        // to take the vault-wide lock).
        let perProcess = 10
        let plain = try Self.setLoop(key: "a", count: perProcess, sandbox: sandbox, binary: binary, environment: [:])
        let guarded = try Self.setLoop(key: "b", count: perProcess, sandbox: sandbox, binary: binary, environment: ["FBT_RUN_ID": "20990101-000000-cccccc"])
        let processesDone = Locked(false)
        let waiter = Thread {
            // Each loop is at most 10 × 600 tries of one or two short commands.
            _ = plain.wait(seconds: 600)
            _ = guarded.wait(seconds: 600)
            processesDone.withLock { $0 = true }
        }
        waiter.start()

        // Threads of this process: two append lines to the body, two make guarded property edits, each
        // numbering its writes, 300 each (about two seconds, overlapping the processes' first writes;
        // a run's edit reads the note's hash and then writes it, and in an endless storm of writes it
        // would lose every race — each loss an honest refusal, kept in a conflict note).
        let counts = Locked([Int](repeating: 0, count: 4))
        let failures = Locked([String]())
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            var i = 0
            while i < 300 {
                do {
                    if worker < 2 {
                        try store.append("- line \(worker)-\(i) end\n", to: Self.note, header: "", attempts: 10_000)
                    } else {
                        let verdict = try StaleMemoryGuard.write(.properties(set: [Property("t\(worker)_\(i)", .int(i))], unset: []), to: Self.note,
                                                                 expecting: .any, store: store, runID: "20990101-000000-dddddd")
                        guard case .written = verdict else {
                            failures.withLock { $0.append("worker \(worker): \(verdict)") }
                            return
                        }
                    }
                } catch let error as NoteWriteError {
                    // Too many lost races in a row: refused, nothing written; try the same write again.
                    if case .conflict = error { continue }
                    failures.withLock { $0.append("worker \(worker): \(error)") }
                    return
                } catch {
                    failures.withLock { $0.append("worker \(worker): \(error)") }
                    return
                }
                i += 1
                counts.withLock { $0[worker] = i }
                // A breath between writes: four threads writing back to back starved a CLI process on a
                // loaded machine (CI: its 8 tries × 50 all lost their race, an honest refusal each time);
                // the run's edit, which reads the note's hash first and then writes, needs a longer one.
                usleep(5_000)
            }
        }
        // Both processes landed every write.
        #expect(eventually(within: 600, every: 0.1) { processesDone.withLock { $0 } }, "the processes did not finish")
        #expect(plain.terminationStatus == 0 && guarded.terminationStatus == 0)
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")

        let text = try String(contentsOfFile: sandbox.vault + "/" + Self.note, encoding: .utf8)
        let note = try Note.parse(text)
        let done = counts.withLock { $0 }
        for worker in 0..<2 {
            #expect(done[worker] >= 10)
            for i in 0..<done[worker] {
                let line = "- line \(worker)-\(i) end\n"
                #expect(text.components(separatedBy: line).count == 2, "'\(line.dropLast())' is not in the note exactly once")
            }
        }
        for worker in 2..<4 {
            #expect(done[worker] >= 10)
            for i in 0..<done[worker] {
                #expect(note["t\(worker)_\(i)"] == .int(i), "t\(worker)_\(i) was lost")
                #expect(text.components(separatedBy: "\nt\(worker)_\(i): ").count == 2, "t\(worker)_\(i) is not in the note exactly once")
            }
        }
        for key in ["a", "b"] {
            for i in 1...perProcess {
                #expect(note["\(key)\(i)"] == .int(i), "\(key)\(i), set by a process, was lost")
                #expect(text.components(separatedBy: "\n\(key)\(i): ").count == 2, "\(key)\(i) is not in the note exactly once")
            }
        }
        // Only the run's edits carry an expectation (the hash read): one that kept losing its race
        // was refused into a conflict note, and tried again; no other write made one.
        let conflicts = (try? FileManager.default.contentsOfDirectory(atPath: sandbox.vault + "/" + StaleMemoryGuard.conflictFolder)) ?? []
        for name in conflicts {
            let kept = try String(contentsOfFile: sandbox.vault + "/" + StaleMemoryGuard.conflictFolder + "/" + name, encoding: .utf8)
            #expect(kept.range(of: #"\nb[0-9]+: [0-9]+\n"#, options: .regularExpression) != nil, "a conflict note not of the run's edits: \(name)")
        }
    }

    /// Attack (round 46, low-medium): twenty `task new --title "Follow up"` at once, from a script
    /// that fans work out: each looked for a free name and then created it once, and sixteen were
    /// refused ("already exists; refusing to overwrite it", exit 1), their prompts lost, where
    /// commands.md promises ` 2`, ` 3`…. Each takes the next free name.
    @Test func tasksOfOneTitleMadeAtOnceAllGetTheirOwnNote() throws {
        let binary = try BuiltBinary.path()
        let sandbox = try EndToEndTests.Sandbox()
        #expect(try EndToEndTests.run(["init", "--vault", sandbox.vault], in: sandbox).code == 0)
        // xargs starts all twenty at once and reaps them with wait(2) (a shell's `wait` sleeps on
        // SIGCHLD, which this test process may hold blocked for its children).
        let script = """
        seq 1 20 | xargs -P 20 -I{} sh -c '"$FBT" task new "Follow up on item {}" --title "Follow up" --agent echo --vault "$VAULT" >/dev/null 2>>"$ROOT/err"; echo "$?" >> "$ROOT/rc"'
        """
        let fan = try ChildProcess("/bin/sh", ["-c", script],
                                   environment: ["PATH": "/usr/bin:/bin", "HOME": sandbox.home, "FBT": binary, "VAULT": sandbox.vault, "ROOT": sandbox.root])
        #expect(fan.wait(seconds: 300))
        let codes = ((try? String(contentsOfFile: sandbox.root + "/rc", encoding: .utf8)) ?? "").split(separator: "\n")
        let errors = (try? String(contentsOfFile: sandbox.root + "/err", encoding: .utf8)) ?? ""
        #expect(codes.count == 20 && codes.allSatisfy { $0 == "0" }, "\(codes) \(errors)")
        let store = NoteStore(vault: Vault(root: sandbox.vault))
        let names = try FileManager.default.contentsOfDirectory(atPath: sandbox.vault + "/Tasks").filter { $0.hasPrefix("Follow up") }
        #expect(Set(names) == Set(["Follow up.md"] + (2...20).map { "Follow up \($0).md" }), "\(names.sorted())")
        let prompts = try names.map { try Note.parse(bytes: store.read("Tasks/" + $0).bytes).body.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(Set(prompts) == Set((1...20).map { "Follow up on item \($0)" }))
    }
}
