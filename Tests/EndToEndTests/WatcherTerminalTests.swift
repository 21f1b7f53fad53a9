import AgentOS
import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// The watcher as a person sees it in a terminal: run in a real pseudo-terminal (Python's `pty`),
/// it says where it watches and how to stop, shows each task's route and outcome, colours warnings,
/// and Ctrl-C (the terminal's interrupt character, not a signal sent by the test) stops it cleanly.
@Suite(.serialized) struct WatcherTerminalTests {
    /// Drives `fuckbigtech watch` in a pty: waits for the start line, writes a task note and a broken
    /// one, waits for their outcome, types Ctrl-C, and prints everything the terminal showed.
    static let driver = #"""
    import os, pty, sys, time, select
    binary, vault, home = sys.argv[1], sys.argv[2], sys.argv[3]
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update({"HOME": home, "PATH": "/usr/local/bin:/usr/bin:/bin", "TERM": "xterm-256color"})
        os.environ.pop("NO_COLOR", None)
        os.execv(binary, [binary, "watch", "--vault", vault])
    seen = b""
    def read_until(marker, seconds):
        global seen
        deadline = time.time() + seconds
        while marker not in seen and time.time() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
        return marker in seen
    ok = read_until(b"Ctrl-C stops", 60)
    if ok:
        with open(vault + "/Tasks/Greet.md", "w") as f:
            f.write("---\nagent: echo\n---\nSay hello.\n")
        ok = read_until(b"Tasks/Greet.md: done", 60)
        with open(vault + "/Tasks/Broken.md", "w") as f:
            f.write("---\nagent: [echo\n---\nBroken.\n")
        read_until(b"Tasks/Broken.md", 30)
    os.write(fd, b"\x03")
    read_until(b"stopped", 30)
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(seen.decode("utf-8", "replace"))
    sys.stdout.write("\n[exit %d]\n" % os.waitstatus_to_exitcode(status))
    """#

    @Test func aPersonSeesRoutesOutcomesAndACleanStopOnCtrlC() throws {
        let env = try WatchedVault()
        let binary = try BuiltBinary.path()
        let python = try ExternalTool.require("python3")
        let result = try ChildProcess.run(python, ["-c", Self.driver, binary, env.root, env.sandbox.home],
                                          environment: ["PATH": "/usr/local/bin:/usr/bin:/bin"], timeout: 240)
        let screen = result.stdout
        #expect(result.code == 0 && !result.timedOut, "\(result.stderr)")
        #expect(screen.contains("watching \(env.root) (inotify); Ctrl-C stops"), "\(screen)")
        #expect(screen.contains("Tasks/Greet.md: routed to echo (local)"), "\(screen)")
        #expect(screen.contains("Tasks/Greet.md: done"), "\(screen)")
        // The broken note's error is shown in red on the terminal, with where it went wrong.
        #expect(screen.contains("\u{1B}[31merror: \u{1B}[0mTasks/Broken.md:"), "\(screen)")
        // Ctrl-C typed at the terminal: a clean stop, exit 0, and the terminal echoes ^C as usual.
        #expect(screen.contains("stopping: waiting up to 5 s for running agents"), "\(screen)")
        #expect(screen.contains(" stopped"), "\(screen)")
        #expect(screen.contains("[exit 0]"), "\(screen)")
        #expect(env.status("Tasks/Greet.md") == "done")
    }
}
