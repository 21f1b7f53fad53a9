import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// The server a browser run loads vault pages from (`VaultPageServer`), over real loopback HTTP.
/// Round 140 (high): a public vault page loaded as a `file:` URL pulled private notes into its
/// console errors and screenshot through `<script src>`, `<iframe>` and `<object>`; every part a
/// page loads is now asked of this server, which answers only what a page may show.
@Suite struct VaultPageServerTests {
    @Test func itServesAPagesPublicFilesAndNothingPrivateHiddenLinkedOrOutside() throws {
        let v = RouteTestVault()
        v.write("Site/page.html", "<title>Page</title>")
        v.write("Site/style.css", "body { background: #00ff00 }")
        v.write("Site/My café page.html", "<title>Café</title>")
        v.write("Private/Bank.md", "IBAN ZEBRAPRIVATE1\n")
        v.write("Private/report.html", "<title>Private page</title>")
        v.write("Memory/Diagnosis.md", "---\nprivacy: private\n---\nZEBRAPRIVATE2\n")
        v.write("Memory/Public.md", "A public note.\n")
        v.write("Site/hidden/.secret.txt", "dotfile\n")
        v.write(".agentos/state.txt", "state\n")
        v.write("Health/scan.png", "PNG of a scan")
        v.write("Rules/Guardrails.md", "---\ntype: guardrails\nprivate_folders: [Health]\n---\n")
        try FileManager.default.createSymbolicLink(atPath: v.root + "/Site/link.css", withDestinationPath: v.root + "/Private/Bank.md")
        try FileManager.default.createSymbolicLink(atPath: v.root + "/Site/linked", withDestinationPath: v.root + "/Private")
        #expect(link(v.root + "/Private/report.html", v.root + "/Site/hard.html") == 0)
        let outside = TemporaryFolder.make("fbt-outside")
        defer { TemporaryFolder.remove(outside) }
        try "outside the vault".replacingFile(outside + "/x.txt")

        let server = try VaultPageServer(vault: v.vault, guardrails: RuleBook.load(vault: v.vault).guardrails)
        defer { server.stop() }
        func get(_ target: String) throws -> HTTPClient.Response {
            try HTTPClient.send(HTTPClient.Request(method: "GET", url: "http://127.0.0.1:\(server.port)" + target), timeout: 10)
        }
        let token = String(server.base.dropFirst("http://127.0.0.1:\(server.port)".count))

        let page = try HTTPClient.get(server.url(for: "Site/page.html"), timeout: 10)
        #expect(page.status == 200 && String(decoding: page.body, as: UTF8.self) == "<title>Page</title>")
        #expect(page.header("Content-Type") == "text/html; charset=utf-8")
        let style = try HTTPClient.get(server.url(for: "Site/style.css"), timeout: 10)
        #expect(style.status == 200 && style.header("Content-Type") == "text/css; charset=utf-8")
        #expect(try HTTPClient.get(server.url(for: "Site/My café page.html") + "?v=2#top", timeout: 10).status == 200)

        for refused in ["Private/Bank.md", "Private/report.html", "Memory/Diagnosis.md", "Memory/Public.md", "Site/hidden/.secret.txt",
                        ".agentos/state.txt", "Health/scan.png", "Site/link.css", "Site/linked/report.html", "Site/hard.html", "Site/none.css"] {
            let answer = try HTTPClient.get(server.url(for: refused), timeout: 10)
            #expect(answer.status == 404, "\(refused): \(answer.status)")
            #expect(!String(decoding: answer.body, as: UTF8.self).contains("ZEBRA"), "\(refused)")
        }
        // Paths that leave the vault or the run's token, however they are spelled.
        for target in [token + "..%2F..%2F" + outside.dropFirst() + "/x.txt", token + "%2e%2e/%2e%2e/etc/hostname", token + "Site/..%2FPrivate%2FBank.md",
                       "/Site/page.html", "/" + String(repeating: "0", count: 32) + "/Site/page.html", token + "/etc/hostname", token + "Site%5C..%5CPrivate%5Creport.html"] {
            let answer = try get(target)
            #expect(answer.status == 404, "\(target): \(answer.status)")
        }
        #expect(try HTTPClient.send(HTTPClient.Request(method: "POST", url: server.url(for: "Site/page.html"), body: Array("x".utf8)), timeout: 10).status == 405)
        #expect(server.showingVaultPaths("Failed to load resource (\(server.url(for: "Site/My café page.html")))") == "Failed to load resource (Site/My café page.html)")
    }
}
