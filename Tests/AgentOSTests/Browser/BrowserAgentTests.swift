import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// Issue 17, item 1, the parts of the browser lane that need no browser: which pages a task names,
/// the network rules Chromium is started with, how DevTools events become the report, the effects
/// a browser task may not take without a person, and whether the lane is usable here.
@Suite struct BrowserAgentTests {
    @Test func aTaskNamesItsWebAddressesAndItsLinkedVaultPages() throws {
        let v = RouteTestVault()
        v.write("Site/landing.html", "<title>Landing</title>")
        v.write("Notes/Plain.md", "# not a page\n")
        let body = """
            Check http://127.0.0.1:8080/pricing. Then https://Example.com/a?b=1, and again http://127.0.0.1:8080/pricing!
            Also [[Site/landing.html]] and [[Notes/Plain]] and (http://[::1]:9000/x).
            %% http://hidden.example/ is in an Obsidian comment %%
            """
        let targets = BrowserAgent.targets(title: "Check pricing", body: body, taskPath: "Tasks/Check pricing.md", vault: v.vault)
        #expect(targets.map(\.label) == ["http://127.0.0.1:8080/pricing", "https://Example.com/a?b=1", "http://[::1]:9000/x", "Site/landing.html"])
        #expect(targets.map(\.hostPort) == ["127.0.0.1:8080", "example.com:443", "[::1]:9000", nil])
        #expect(targets[3].url == URL(fileURLWithPath: v.root + "/Site/landing.html").absoluteString)
        #expect(BrowserAgent.targets(title: "Nothing", body: "Look at the pricing page", taskPath: "Tasks/N.md", vault: v.vault).isEmpty)
    }

    /// Attack (round 140): the machine's own name (`vm`, 127.0.0.1 in /etc/hosts) got an agent's
    /// page check of a loopback server past review, and its page text into a public result a cloud
    /// agent searched; `::127.0.0.1` was judged public. A name is judged by the addresses the
    /// resolver gives it, a name without a dot or without an answer is this machine's or its
    /// network's, and an IPv4 address carried in IPv6 is judged as that address.
    @Test func aNameIsJudgedByTheAddressesItResolvesTo() {
        let v = RouteTestVault()
        let answers: [String: [[UInt8]]] = [
            "intranet.example.com": [[93, 184, 215, 14], [10, 0, 0, 7]],
            "shop.example.com": [[93, 184, 215, 14], [0x26, 0x06, 0x28, 0, 2, 0x20, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]],
            "rebind.example.com": [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 127, 0, 0, 1]],
        ]
        func judged(_ address: String) -> Bool {
            let target = BrowserAgent.targets(title: "T", body: "Check \(address)", taskPath: "Tasks/T.md", vault: v.vault)[0]
            return BrowserAgent.isPrivateTarget(target, vault: v.vault, guardrails: Guardrails(), resolve: { answers[$0] })
        }
        for local in ["http://vm:18081/admin.html", "http://runsc/", "http://intranet.example.com/", "http://rebind.example.com/",
                      "http://nowhere.example.org/", "http://[::127.0.0.1]:18081/", "http://[::ffff:127.0.0.1]/", "http://[64:ff9b::a00:1]/",
                      "http://[2002:7f00:1::]/", "http://[ff02::1]/", "http://224.0.0.1/", "http://[::]/"] {
            #expect(judged(local), "\(local)")
        }
        for outside in ["https://shop.example.com/pricing", "http://93.184.215.14/", "http://[2606:2800:220:1::1]/", "http://[64:ff9b::5db8:d70e]/"] {
            #expect(!judged(outside), "\(outside)")
        }
        // The system resolver's answer, read as addresses.
        #expect(BrowserAgent.addresses(of: "127.0.0.1") == [[127, 0, 0, 1]])
        #expect(BrowserAgent.addresses(of: "::1") == [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]])
    }

    /// Round 140 (low): a person's browser task on a page under `Private/` was blocked with
    /// "private work never leaves this machine", which a browser that calls no model seemed to
    /// contradict. It is still blocked (the page server loads no private file), and says why.
    @Test func aPrivatePageCheckIsBlockedSayingWhy() throws {
        let v = RouteTestVault()
        v.write("Rules/Agents/browser.md", "---\ntype: agent\nname: browser\nlane: tool\ncommand: [chromium]\noutput: browser\n---\n")
        v.write("Private/pp.html", "<title>Private page</title>")
        v.write("Tasks/Check private page.md", "---\ntype: task\nagent: browser\n---\nCheck [[Private/pp.html]].\n")
        let plan = try PrivacyTaintTests.plan(v.vault, "Tasks/Check private page.md").0
        guard case .blocked(let why) = plan.action else { Issue.record("\(plan.action)"); return }
        #expect(why.contains("the browser loads no private file") && !why.contains("never leaves this machine"), "\(why)")
    }

    @Test func onlyTheNamedHostsAreReachable() {
        let arguments = Chromium.arguments(profile: "/tmp/p", allowedHosts: ["127.0.0.1:8080", "example.com:443"], windowWidth: 1280, windowHeight: 800, isRoot: false)
        #expect(arguments.contains("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE example.com"))
        #expect(arguments.contains("--proxy-bypass-list=<-loopback>;127.0.0.1:8080;example.com:443"))
        #expect(arguments.contains("--proxy-server=http://fbt-no-network.invalid:9"))
        #expect(arguments.contains("--user-data-dir=/tmp/p"))
        #expect(!arguments.contains("--no-sandbox"))
        #expect(Chromium.arguments(profile: "/tmp/p", allowedHosts: [], windowWidth: 800, windowHeight: 600, isRoot: true).contains("--no-sandbox"))
        // A file page names no host: nothing is reachable.
        #expect(Chromium.arguments(profile: "/tmp/p", allowedHosts: [], windowWidth: 800, windowHeight: 600).contains("--host-resolver-rules=MAP * ~NOTFOUND"))
    }

    @Test func eventsBecomeStatusAndConsoleErrors() throws {
        func event(_ method: String, _ params: String) throws -> DevTools.Event {
            DevTools.Event(method: method, params: try JSON.parse(params), sessionID: "s")
        }
        let events = [
            try event("Network.responseReceived", #"{"type":"Document","frameId":"main","response":{"status":302,"url":"http://a/old"}}"#),
            try event("Network.responseReceived", #"{"type":"Document","frameId":"main","response":{"status":200,"url":"http://a/new"}}"#),
            try event("Network.responseReceived", #"{"type":"Document","frameId":"iframe","response":{"status":404,"url":"http://a/frame"}}"#),
            try event("Network.responseReceived", #"{"type":"Image","frameId":"main","response":{"status":500,"url":"http://a/i.png"}}"#),
            try event("Runtime.consoleAPICalled", #"{"type":"log","args":[{"type":"string","value":"fine"}]}"#),
            try event("Runtime.consoleAPICalled", #"{"type":"error","args":[{"type":"string","value":"widget failed"},{"type":"number","value":42}]}"#),
            try event("Runtime.exceptionThrown", #"{"exceptionDetails":{"text":"Uncaught","exception":{"description":"TypeError: x is undefined\n    at page.js:3"}}}"#),
            try event("Log.entryAdded", #"{"entry":{"level":"error","source":"network","text":"Failed to load resource","url":"http://a/i.png"}}"#),
            try event("Log.entryAdded", #"{"entry":{"level":"warning","source":"other","text":"deprecated"}}"#),
        ]
        var report = PageReport(url: "http://a/old", finalURL: nil, status: nil, title: "", text: "", consoleErrors: [], screenshot: nil, width: 0, height: 0, loadError: nil)
        PageCapture.read(events, frameID: "main", into: &report)
        #expect(report.status == 200)
        #expect(report.finalURL == "http://a/new")
        #expect(report.consoleErrors == [
            "console.error: widget failed 42",
            "uncaught: TypeError: x is undefined",
            "network: Failed to load resource (http://a/i.png)",
        ])
        let section = BrowserAgent.section(target: BrowserAgent.Target(url: "http://a/old", label: "http://a/old", hostPort: "a:80"), report: report, imageName: "R 1.png")
        #expect(section.hasPrefix("## http://a/old\n\n![[R 1.png]]\n\n- Title: (none)\n- HTTP status: 200\n- Final address: http://a/new\n"))
        #expect(section.contains("- Errors logged in the console: 3\n  - `console.error: widget failed 42`\n"))
    }

    /// (prompt, whether it asks the browser to act for someone)
    static let acting: [(String, Bool)] = [
        ("Open http://127.0.0.1:8000/ and submit the signup form with my email", true),
        ("Log in to https://shop.example.com with the test account and take a screenshot", true),
        ("Please sign up for the newsletter on https://example.com", true),
        ("Go to the page and click the \"Buy now\" button", true),
        ("Create an account on https://example.com", true),
        ("Check that the page at http://127.0.0.1:8000/ shows the pricing table", false),
        ("Take a screenshot of the login page and describe the layout", false),
        ("Does the sign-up page at https://example.com load without console errors?", false),
        ("Check the submit button's contrast on https://example.com", false),
    ]

    @Test(arguments: 0..<acting.count)
    func actingOnAPageWaitsForAPerson(_ index: Int) {
        let (prompt, acts) = Self.acting[index]
        #expect(EffectsInference.infer(prompt).map(\.effect).contains("submit") == acts, "\(prompt) → \(EffectsInference.infer(prompt))")
        let v = RouteTestVault()
        // Even a vault whose guardrails review nothing reviews `submit`: it is not an effect a list can leave out.
        v.writeStandardRules(guardrails: "review_effects: []")
        v.write("Rules/Agents/browser.md", "---\ntype: agent\nname: browser\nlane: tool\ncommand: [chromium]\noutput: browser\n---\n")
        let d = v.route("Tasks/b.md", "---\nagent: browser\n---\n\(prompt)\n")
        if acts {
            #expect(d.action.name == "review", "\(prompt) → \(d.action)")
            #expect(d.reason.contains("inferred submit from \""), "\(d.reason)")
            #expect(v.route("Tasks/b.md", "---\nagent: browser\napproved: true\n---\n\(prompt)\n").action == .run)
        } else {
            #expect(d.action == .run, "\(prompt) → \(d.action)")
        }
    }

    @Test func theLaneIsUsableOnlyWithABrowserOnPath() throws {
        let folder = TemporaryFolder()
        #expect(BrowserAgent.unavailableReason(nil, environment: ["PATH": folder.path])?.contains("no headless browser found (chromium, chromium-browser, google-chrome") == true)
        #expect(!BrowserAgent.isUsable(environment: ["PATH": folder.path]))
        let fake = folder.path + "/google-chrome"
        try "#!/bin/sh\nexit 0\n".write(toFile: fake, atomically: false, encoding: .utf8)
        chmod(fake, 0o755)
        #expect(BrowserAgent.isUsable(environment: ["PATH": folder.path]))
        // An agent note naming its own program is held to that program.
        let note = try Note.parse("---\ntype: agent\nname: browser\nlane: tool\ncommand: [chromium]\noutput: browser\n---\n")
        let definition = try AgentDefinition.parse(note, path: "Rules/Agents/browser.md")
        #expect(BrowserAgent.unavailableReason(definition, environment: ["PATH": folder.path])?.hasPrefix("agent browser: no headless browser found ('chromium' not on the watcher's PATH)") == true)
        #expect(AgentAvailability.probe(definition, environment: ["PATH": folder.path], timeout: 0.1) != nil)
    }
}
