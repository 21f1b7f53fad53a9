import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// `doctor`'s lanes check: every lane reported with its agents; a lane that cannot run fails only
/// when work is routed to it.
@Suite struct LaneChecksTests {
    static func lanes(_ root: String, path: String = "") -> [DoctorFinding] {
        Doctor.run(DoctorTests.isolatedContext(root, path: path), checks: Doctor.standardChecks.filter { $0.name == "lanes" }).findings
    }

    static func remove(_ root: String, _ path: String) throws {
        try FileManager.default.removeItem(atPath: root + "/" + path)
    }

    @Test func everyLaneIsListedWithItsAgentsAndRoutes() throws {
        let temp = try DoctorTests.freshVault(withMemory: false)
        let findings = Self.lanes(temp.path)
        #expect(findings.map { String($0.finding.prefix { $0 != " " }) } == ["premium", "local", "tool", "human", "browser"])
        let local = findings[1]
        #expect(local.status == .fail)
        // An empty PATH: not even echo's printf is found.
        #expect(local.finding.contains("agents: echo not usable, llama-server not usable, ollama not usable"), "\(local.finding)")
        #expect(local.finding.contains("'Default to local'") && local.finding.contains("tasks no rule matches waits in review"))
        #expect(local.fix?.contains("no Ollama server answers at http://127.0.0.1:9") == true)
        #expect(findings[3].status == .ok && findings[3].finding.contains("'Review risky effects'"))
        // Nothing on PATH: no browser, but no rule names the browser agent, so it is only reported.
        #expect(findings[4].status == .warn && findings[4].fix?.contains("apt install chromium") == true)
    }

    @Test func aLaneNoRuleRoutesToIsReportedNotFailed() throws {
        let temp = try DoctorTests.freshVault(withMemory: false)
        try Self.remove(temp.path, "Rules/Routing/Premium for code and judgment.md")
        try Self.remove(temp.path, "Rules/Routing/Tools for UI and browser.md")
        let findings = Self.lanes(temp.path)
        for lane in ["premium", "tool"] {
            let finding = try #require(findings.first { $0.finding.hasPrefix(lane + " ") })
            #expect(finding.status == .warn, "\(finding)")
            #expect(finding.finding.contains("no rule routes work here") && finding.finding.contains("Not usable on this machine"))
            // The fix of the lane's first agent: a CLI that is not installed, or (the tool lane's
            // browser agent) a browser to install.
            #expect(finding.fix.map { $0.contains("is not installed") || $0.contains("install Chromium") } == true, "\(finding)")
        }
    }

    @Test func aLaneWhoseRoutedAgentsRunIsOK() throws {
        let temp = try DoctorTests.freshVault(withMemory: false)
        // Route all local work to echo (printf is on every PATH): the local lane is usable.
        for rule in ["Default to local", "Local for routine work", "Private stays local"] {
            let path = temp.path + "/Rules/Routing/\(rule).md"
            let text = try String(contentsOfFile: path, encoding: .utf8)
            try text.replacingOccurrences(of: "agent: ollama", with: "agent: echo").replacingFile(path)
        }
        let guardrails = temp.path + "/Rules/Guardrails.md"
        try String(contentsOfFile: guardrails, encoding: .utf8).replacingOccurrences(of: "default_agent: ollama", with: "default_agent: echo")
            .replacingFile(guardrails)
        let local = try #require(Self.lanes(temp.path, path: "/usr/bin:/bin").first { $0.finding.hasPrefix("local ") })
        #expect(local.status == .ok, "\(local)")
        #expect(local.finding.contains("echo usable, llama-server not usable, ollama not usable"))
    }

    @Test func anHTTPAgentSaysWhichServerAnswers() throws {
        let server = try OpenAIChatStandIn()
        defer { server.stop() }
        let temp = try DoctorTests.freshVault(withMemory: false)
        let path = temp.path + "/Rules/Agents/llama-server.md"
        try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "endpoint: http://localhost:8080/v1", with: "endpoint: \(server.endpoint)")
            .replacingFile(path)
        let local = try #require(Self.lanes(temp.path).first { $0.finding.hasPrefix("local ") })
        #expect(local.finding.contains("llama-server usable (\(server.endpoint) answers), ollama not usable"), "\(local.finding)")
    }

    @Test func theBrowserIsFoundOnPathAndFailsOnlyWhenARuleNeedsIt() throws {
        let temp = try DoctorTests.freshVault(withMemory: false)
        let bin = temp.path + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try "#!/bin/sh\nexit 0\n".replacingFile(bin + "/chromium-browser")
        _ = chmod(bin + "/chromium-browser", 0o755)
        #expect(Chromium.find(environment: ["PATH": bin]) == bin + "/chromium-browser")
        let found = try #require(Self.lanes(temp.path, path: bin).last)
        #expect(found.status == .ok && found.finding.contains(bin + "/chromium-browser"))

        // The browser agent's own note (issue 17's browser lane ships it); a rule naming it needs a browser.
        try "---\ntype: agent\nname: browser\nlane: tool\ncommand: [fbt-browser, \"{prompt}\"]\noutput: text\n---\n".replacingFile(temp.path + "/Rules/Agents/browser.md")
        try "---\ntype: rule\npriority: 5\nwhen_keywords: [screenshot]\nlane: tool\nagent: browser\n---\n".replacingFile(temp.path + "/Rules/Routing/Screenshots.md")
        let missing = try #require(Self.lanes(temp.path).last)
        #expect(missing.status == .fail && missing.finding.contains("'Screenshots' waits in review"), "\(missing)")
    }
}
