import AgentOS
import Foundation
import TestSupport
import Testing

/// Issue 17, item 1: the browser lane end to end — the real binary's watcher, the shipped `browser`
/// agent note, a real headless Chromium, and a small site served on loopback by Python's
/// `http.server`. The screenshot is checked by decoding its pixels (`PNGImage`).
@Suite(.serialized) struct BrowserEndToEndTests {
    static let needs: Comment = "needs chromium and python3 (.ci/run installs them)"

    /// The page: a red pricing table at a known place, a page taller than the 800 px window (so only a
    /// full-page capture holds the footer), a console error on purpose, a form, and two requests to
    /// hosts the task does not name (another loopback port, and example.com).
    static func page(otherPort: Int) -> String {
        """
        <!doctype html>
        <html><head><title>Acme Pricing</title><style>body{margin:0;background:#fff;font-family:sans-serif}</style></head>
        <body>
        <div id="pricing" style="position:absolute;left:100px;top:100px;width:400px;height:200px;background:#ff0000">Pricing table: Basic $5, Pro $20</div>
        <div style="position:absolute;left:0;top:1500px;width:1280px;height:100px;background:#0000ff">Footer</div>
        <div style="height:1600px"></div>
        <form action="/signup" method="post"><input name="email"><button>Sign up</button></form>
        <img src="http://127.0.0.1:\(otherPort)/leak.png">
        <script>console.error("pricing widget failed on purpose"); fetch("http://example.com/beacon").catch(function(){});</script>
        </body></html>
        """
    }

    /// A Python `http.server` on an ephemeral loopback port serving `folder`; its request log is its stderr.
    static func serve(_ folder: String) throws -> (server: ChildProcess, port: Int) {
        let python = try ExternalTool.require("python3")
        let server = try ChildProcess(python, ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", folder],
                                      environment: ["PATH": "/usr/bin:/bin"])
        let line = try server.firstLine(within: 20)
        // "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
        let words = line.split(separator: " ")
        let port = try #require(words.firstIndex(of: "port").flatMap { Int(words[$0 + 1]) }, "no port in: \(line)")
        return (server, port)
    }

    @Test(.enabled(if: ExternalTool.canRun("chromium") && ExternalTool.canRun("python3"), needs))
    func aPageCheckSavesAScreenshotTextTitleAndConsoleErrorsAndASubmitWaitsForReview() throws {
        _ = try ExternalTool.require("chromium")
        let env = try WatchedVault()
        let site = env.sandbox.root + "/site", other = env.sandbox.root + "/other"
        try FileManager.default.createDirectory(atPath: site, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try "not an image".write(toFile: other + "/leak.png", atomically: false, encoding: .utf8)
        let (otherServer, otherPort) = try Self.serve(other)
        defer { otherServer.signal(SIGTERM) }
        try Self.page(otherPort: otherPort).write(toFile: site + "/index.html", atomically: false, encoding: .utf8)
        let (server, port) = try Self.serve(site)
        defer { server.signal(SIGTERM) }
        try env.start()

        let task = "Tasks/Check pricing.md"
        try env.writeInPlace(task, "---\ntype: task\nagent: browser\n---\nCheck that the page at http://127.0.0.1:\(port)/index.html shows the pricing table.\n")
        try #require(eventually(within: 120, every: 0.1) { env.status(task) == "done" || env.status(task) == "failed" },
                     "the task did not finish:\n\(env.text(task) ?? "missing")\n\(env.allLogs)")
        #expect(env.status(task) == "done", "\(env.text(task) ?? "")")
        let result = try #require(env.resultNotes(for: task).first, "no result note")
        let body = result.note.body
        #expect(result.note.text("agent") == "browser")
        #expect(result.note.text("lane") == "tool")

        // The screenshot: saved next to the result note, embedded, and really of this page.
        let imageName = try #require(body.split(separator: "\n").first { $0.hasPrefix("![[") && $0.hasSuffix(".png]]") }.map { String($0.dropFirst(3).dropLast(2)) },
                                     "no embedded screenshot in:\n\(body)")
        let resultFolder = (result.path as NSString).deletingLastPathComponent
        let png = try [UInt8](Data(contentsOf: URL(fileURLWithPath: env.root + "/" + resultFolder + "/" + imageName)))
        let image = try PNGImage(png)
        #expect(image.width == 1280)
        // Taller than the 800 px window: the whole page was captured, down to the blue footer.
        #expect(image.height >= 1600, "height \(image.height)")
        #expect(image.distinctColours() > 3)
        let red = image.pixel(300, 150), blue = image.pixel(640, 1550), white = image.pixel(800, 900)
        #expect(red.0 > 200 && red.1 < 50 && red.2 < 50, "the pricing block is not red: \(red)")
        #expect(blue.0 < 50 && blue.1 < 50 && blue.2 > 200, "the footer is not blue: \(blue)")
        #expect(white.0 > 240 && white.1 > 240 && white.2 > 240, "the background is not white: \(white)")

        // Title, status, text and the console error the page logs on purpose.
        #expect(body.contains("- Title: Acme Pricing\n"), "\(body)")
        #expect(body.contains("- HTTP status: 200\n"), "\(body)")
        #expect(body.contains("Pricing table: Basic $5, Pro $20"), "\(body)")
        #expect(body.contains("console.error: pricing widget failed on purpose"), "\(body)")

        // Only the named host:port was reachable: the other loopback server saw no request, and
        // example.com failed in the browser (it never left the machine).
        #expect(!otherServer.stderr.contains("GET /leak.png"), "\(otherServer.stderr)")
        #expect(body.contains("http://127.0.0.1:\(otherPort)/leak.png"), "\(body)")
        #expect(body.contains("http://example.com/beacon"), "\(body)")
        #expect(server.stderr.contains("GET /index.html"))

        // The browser's profile folder is gone after the run.
        // (The watcher runs with no XDG_RUNTIME_DIR or TMPDIR, so run folders are made in /tmp.)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: "/tmp").filter { $0.hasPrefix("fbt-run-") && $0.hasSuffix("-browser") }
        let runID = try #require(result.note.text("run_id"))
        #expect(!leftovers.contains { $0.contains(runID) }, "\(leftovers)")

        // Submitting the page's form is an effect: the task waits in review, and no browser runs.
        let submit = "Tasks/Sign up.md"
        let requestsBefore = server.stderr.components(separatedBy: "GET /index.html").count
        try env.writeInPlace(submit, "---\ntype: task\nagent: browser\n---\nOpen http://127.0.0.1:\(port)/index.html and submit the signup form with my email.\n")
        try #require(eventually(within: 30, every: 0.05) { env.status(submit) == "review" }, "not in review:\n\(env.text(submit) ?? "missing")\n\(env.allLogs)")
        let waiting = try #require(env.note(submit))
        #expect(waiting.text("error")?.contains("inferred submit from \"submit the signup form\"") == true || (env.text(submit) ?? "").contains("inferred submit"), "\(env.text(submit) ?? "")")
        #expect(env.resultNotes(for: submit).isEmpty)
        #expect(server.stderr.components(separatedBy: "GET /index.html").count == requestsBefore)
    }

    @Test(.enabled(if: ExternalTool.canRun("chromium"), needs))
    func aVaultPageIsCheckedAndAQuestionIsHandedToTheAgentTheTaskNames() throws {
        _ = try ExternalTool.require("chromium")
        let sandbox = try EndToEndTests.Sandbox()
        #expect(try EndToEndTests.run(["init", sandbox.vault], in: sandbox).code == 0)
        try FileManager.default.createDirectory(atPath: sandbox.vault + "/Site", withIntermediateDirectories: true)
        try "<!doctype html><title>Local page</title><body style=\"margin:0\"><div style=\"width:300px;height:300px;background:#00ff00\">Opening hours: 9 to 5</div></body>"
            .write(toFile: sandbox.vault + "/Site/hours.html", atomically: false, encoding: .utf8)
        try "---\ntype: task\nagent: browser\nask: echo\n---\nWhat opening hours does [[Site/hours.html]] show?\n"
            .write(toFile: sandbox.vault + "/Tasks/Hours.md", atomically: false, encoding: .utf8)

        let run = try EndToEndTests.run(["run", "--vault", sandbox.vault, "Tasks/Hours.md"], in: sandbox)
        #expect(run.code == 0, "\(run.stdout)\(run.stderr)")
        let resultLine = try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("result: ") }, "\(run.stdout)")
        let resultPath = String(resultLine.dropFirst("result: ".count))
        let result = try String(contentsOfFile: sandbox.vault + "/" + resultPath, encoding: .utf8)
        #expect(result.contains("## Site/hours.html\n\n![["), "\(result)")
        #expect(result.contains("- Title: Local page\n- HTTP status: (a file)\n"), "\(result)")
        #expect(result.contains("Opening hours: 9 to 5"))
        let imageName = try #require(result.split(separator: "\n").first { $0.hasPrefix("![[") }.map { String($0.dropFirst(3).dropLast(2)) })
        let image = try PNGImage(Array(try Data(contentsOf: URL(fileURLWithPath: sandbox.vault + "/Results/" + imageName))))
        let green = image.pixel(150, 150)
        #expect(green.0 < 50 && green.1 > 200 && green.2 < 50, "\(green)")

        // The question went to the agent the task names, as a handoff note carrying what the browser saw.
        let handoffLink = try #require(result.split(separator: "\n").first { $0.hasPrefix("Handed to echo: [[") }, "\(result)")
        let handoffPath = String(handoffLink.dropFirst("Handed to echo: [[".count).dropLast(2)) + ".md"
        let handoff = try Note.parse(String(contentsOfFile: sandbox.vault + "/" + handoffPath, encoding: .utf8))
        #expect(handoff.text("to") == "echo")
        #expect(handoff.text("from") == "browser")
        #expect(handoff.body.contains("- Title: Local page"))
        #expect(handoff.body.contains("Opening hours: 9 to 5"))
    }

    /// `init` a vault in `sandbox`, write `files` into it, `run` the task at `task` with the real
    /// binary, and return its result note's text.
    static func runTask(_ task: String, in sandbox: EndToEndTests.Sandbox, files: [String: String]) throws -> String {
        #expect(try EndToEndTests.run(["init", sandbox.vault], in: sandbox).code == 0)
        for (path, text) in files {
            try FileManager.default.createDirectory(atPath: (sandbox.vault + "/" + path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: sandbox.vault + "/" + path, atomically: false, encoding: .utf8)
        }
        let run = try EndToEndTests.run(["run", "--vault", sandbox.vault, task], in: sandbox)
        #expect(run.code == 0, "\(run.stdout)\(run.stderr)")
        let resultLine = try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("result: ") }, "\(run.stdout)")
        return try String(contentsOfFile: sandbox.vault + "/" + String(resultLine.dropFirst("result: ".count)), encoding: .utf8)
    }

    /// Attack (round 140, high): a public vault page loaded as a `file:` URL pulled `Private/`
    /// notes in with `<script src>`, `<iframe>` and `<object>`: a private word in a console error of
    /// the public result note (searched by a cloud agent over MCP), whole private notes in its
    /// screenshot. The page's own public parts still load — its stylesheet, a frame beside it —
    /// and nothing private, hidden or outside the vault does.
    @Test(.enabled(if: ExternalTool.canRun("chromium"), needs))
    func aVaultPageLoadsItsPublicPartsAndNothingPrivateOrOutsideTheVault() throws {
        _ = try ExternalTool.require("chromium")
        let sandbox = try EndToEndTests.Sandbox()
        let result = try Self.runTask("Tasks/Landing.md", in: sandbox, files: [
            "Site/landing.html": """
                <!doctype html><html><head><title>Landing</title><link rel="stylesheet" href="style.css">
                <script src="../Private/Plain.md"></script><script src="file:///etc/hostname"></script></head>
                <body style="margin:0;background:#ffffff">
                <iframe src="green.html" style="position:absolute;left:0;top:0;width:200px;height:200px;border:0"></iframe>
                <iframe src="../Private/red.html" style="position:absolute;left:300px;top:0;width:200px;height:200px;border:0"></iframe>
                <object data="../Memory/Diagnosis.md" type="text/plain" style="position:absolute;left:0;top:300px;width:600px;height:100px"></object>
                <iframe src="file:///etc/passwd" style="position:absolute;left:0;top:450px;width:600px;height:100px;border:0"></iframe>
                <div class="blue" style="position:absolute;left:600px;top:0;width:100px;height:100px"></div>
                </body></html>
                """,
            "Site/style.css": ".blue { background: #0000ff }\n",
            "Site/green.html": "<!doctype html><body style=\"margin:0;background:#00ff00\"></body>",
            "Private/red.html": "<!doctype html><body style=\"margin:0;background:#ff0000\">ZEBRAREDPAGE</body>",
            "Private/Plain.md": "Divorce ZEBRASYNTAX lawyer\n",
            "Memory/Diagnosis.md": "---\nprivacy: private\n---\nZEBRAPRIVATE2 chemotherapy schedule\n",
            "Tasks/Landing.md": "---\ntype: task\nagent: browser\n---\nCheck [[Site/landing.html]] renders.\n",
        ])
        #expect(result.contains("## Site/landing.html\n\n![[") && result.contains("- Title: Landing\n- HTTP status: (a file)\n"), "\(result)")
        for secret in ["ZEBRASYNTAX", "ZEBRAPRIVATE2", "ZEBRAREDPAGE", "root:x:0:0", "127.0.0.1:"] {
            #expect(!result.contains(secret), "\(secret) in:\n\(result)")
        }
        let imageName = try #require(result.split(separator: "\n").first { $0.hasPrefix("![[") }.map { String($0.dropFirst(3).dropLast(2)) })
        let image = try PNGImage(Array(try Data(contentsOf: URL(fileURLWithPath: sandbox.vault + "/Results/" + imageName))))
        let frame = image.pixel(100, 100), styled = image.pixel(650, 50), privateFrame = image.pixel(400, 100)
        #expect(frame.0 < 50 && frame.1 > 200 && frame.2 < 50, "the public frame: \(frame)")
        #expect(styled.0 < 50 && styled.1 < 50 && styled.2 > 200, "the stylesheet: \(styled)")
        #expect(!(privateFrame.0 > 200 && privateFrame.1 < 50 && privateFrame.2 < 50), "the private frame showed: \(privateFrame)")
    }

    /// Attack (round 143, medium): a vault page registered a service worker, which answered the
    /// run's later vault pages with text it made up; the result recorded the forgery as those pages.
    @Test(.enabled(if: ExternalTool.canRun("chromium"), needs))
    func aServiceWorkerOfOnePageCannotAnswerForTheNext() throws {
        _ = try ExternalTool.require("chromium")
        let result = try Self.runTask("Tasks/Worker.md", in: try EndToEndTests.Sandbox(), files: [
            "Site/sw.js": "self.addEventListener('install', e => self.skipWaiting()); self.addEventListener('activate', e => e.waitUntil(self.clients.claim()));\nself.addEventListener('fetch', e => e.respondWith(new Response('FORGEDBYWORKER', {headers: {'content-type': 'text/html'}})));\n",
            "Site/a.html": "<!doctype html><title>A</title><body><p id=o>waiting</p><script>navigator.serviceWorker.register('sw.js', {scope: './'}).then(() => navigator.serviceWorker.ready).then(() => { document.getElementById('o').textContent = 'WORKERREADY' }).catch(e => { document.getElementById('o').textContent = 'no worker: ' + e.name })</script></body>",
            "Site/b.html": "<!doctype html><title>B</title><body>The real page B</body>",
            "Tasks/Worker.md": "---\ntype: task\nagent: browser\n---\nCheck [[Site/a.html]] and then [[Site/b.html]].\n",
        ])
        #expect(result.contains("The real page B") && !result.contains("FORGEDBYWORKER") && !result.contains("WORKERREADY"), "\(result)")
    }

    @Test(.enabled(if: ExternalTool.canRun("chromium") && ExternalTool.canRun("python3"), needs))
    func aPageThatNeverAnswersEndsAtTheTimeoutAndLeavesNoBrowserBehind() throws {
        _ = try ExternalTool.require("chromium")
        let python = try ExternalTool.require("python3")
        // A server that accepts connections and never answers.
        let silent = try ChildProcess(python, ["-u", "-c", """
            import socket
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
            print(s.getsockname()[1], flush=True)
            held = []
            while True: held.append(s.accept())
            """], environment: ["PATH": "/usr/bin:/bin"])
        defer { silent.signal(SIGTERM) }
        let port = try #require(Int(try silent.firstLine(within: 20).trimmingCharacters(in: .whitespaces)))
        let sandbox = try EndToEndTests.Sandbox()
        #expect(try EndToEndTests.run(["init", sandbox.vault], in: sandbox).code == 0)
        try "---\ntype: task\nagent: browser\ntimeout: 5\n---\nCheck http://127.0.0.1:\(port)/slow loads.\n"
            .write(toFile: sandbox.vault + "/Tasks/Slow.md", atomically: false, encoding: .utf8)

        let run = try EndToEndTests.run(["run", "--vault", sandbox.vault, "Tasks/Slow.md"], in: sandbox, environment: ["TMPDIR": sandbox.root])
        #expect(run.code == 1, "\(run.stdout)\(run.stderr)")
        let task = try Note.parse(String(contentsOfFile: sandbox.vault + "/Tasks/Slow.md", encoding: .utf8))
        #expect(task.text("status") == "failed")
        let error = try #require(task.text("error"))
        #expect(error.contains("http://127.0.0.1:\(port)/slow") && error.contains("in time"), "\(error)")
        // The browser was stopped and its folder (profile included) removed.
        let left = try FileManager.default.contentsOfDirectory(atPath: sandbox.root).filter { $0.hasPrefix("fbt-run-") }
        #expect(left.isEmpty, "\(left)")
        let profiles = try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap { Int32($0) }.filter { pid in
            let cmdline = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            return cmdline.contains("--user-data-dir=" + sandbox.root)
        }
        #expect(profiles.isEmpty, "browser processes left: \(profiles)")
    }
}
