import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// A task the rules keep on this machine gets a packet built for it (retrieved pieces are not
/// scanned for secrets; private notes' names are hidden as for any lane); when the guardrails send it off this machine after
/// all — here the local agent is cooling down and its chain names a cloud agent — it is planned again
/// with a packet built for the cloud, and judged on that.
@Suite struct LocalPacketTests {
    static let token = "ghp_" + "Zq8Vw2Lm5Rt7Yp3Kd9Hs4Fb6Nc1Xj0Ge8Ta2"

    static func vault() throws -> RouteTestVault {
        let v = RouteTestVault()
        v.write("Rules/Agents/loc.md", "---\ntype: agent\nname: loc\nlane: local\ncommand: [printf, \"%s\", \"{prompt}\"]\noutput: text\nfailover: [cloudy]\n---\n")
        v.write("Rules/Agents/cloudy.md", "---\ntype: agent\nname: cloudy\nlane: premium\ncommand: [printf, \"%s\", \"{prompt}\"]\noutput: text\nmax_cost_usd: 0.1\n---\n")
        v.write("Private/Divorce lawyer Smith.md", "Private notes about the lawyer.\n")
        v.write("Memory/Rotation plan.md", "# Rotation plan\n\nThe wombat key rotation: see [[Divorce lawyer Smith]] before the wombat rotation.\n")
        v.write("Memory/Rotation keys.md", "# Rotation keys\n\nThe wombat key rotation token is \(token) for the wombat rotation.\n")
        v.write("Tasks/Rotate.md", "---\ntype: task\nagent: loc\n---\nExplain the wombat key rotation.\n")
        _ = try MemoryIndex(vault: v.vault).reconcile()
        return v
    }

    @Test func aLocalTaskGetsTheWholePacketAndACloudFallbackAPacketJudgedForTheCloud() throws {
        let v = try Self.vault()
        let local = try PrivacyTaintTests.plan(v.vault, "Tasks/Rotate.md").0
        #expect(local.action == .run && local.agent == "loc", "\(local.action) \(local.agent)")
        #expect(local.prompt.contains(Self.token), "\(local.prompt)")
        // A private note's name is hidden from a local agent too: what it writes for a task that
        // is not private is public (round 144: it passed the name on to a cloud agent as text).
        #expect(!local.prompt.contains("Divorce lawyer Smith") && local.prompt.contains("(a private note)"), "\(local.prompt)")
        #expect(local.privacy == nil)

        // The local agent is cooling down: its chain sends the task to a cloud agent, off this machine.
        _ = try RunStore(vault: v.vault).coolDown(agent: "loc", failure: .usageLimit, reason: "limit", resetAt: Date().addingTimeInterval(3600))
        let cloud = try PrivacyTaintTests.plan(v.vault, "Tasks/Rotate.md").0
        #expect(cloud.agent == "cloudy" && cloud.action == .run, "\(cloud.action) \(cloud.agent) \(cloud.reason)")
        #expect(!cloud.prompt.contains(Self.token), "\(cloud.prompt)")
        #expect(!cloud.prompt.contains("Divorce lawyer Smith"), "\(cloud.prompt)")
        #expect(cloud.prompt.contains("wombat key rotation"), "\(cloud.prompt)")
        let verdicts = cloud.extraProperties.first { $0.key == "route_verdicts" }?.value.texts ?? []
        #expect(verdicts.contains { $0.hasPrefix("retrieval: ok — ") && $0.contains("secret") }, "\(verdicts)")
    }
}
