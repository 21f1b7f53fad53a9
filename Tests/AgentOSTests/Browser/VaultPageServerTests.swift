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

        // Round 143: a text file private by what it says, in a public folder, was served; so was a
        // service worker's script, whose worker then answered the run's later pages.
        v.write("Site/notes.txt", "---\nprivacy: private\n---\nZEBRATXTPRIV\n")
        v.write("Site/diary.markdown", "Met the lawyer today. #private\n")
        v.write("Site/broken.txt", "---\nprivacy: [private\n---\nZEBRABROKEN\n")
        v.write("Site/readme.txt", "Opening hours: 9 to 5.\n")
        v.write("Site/sw.js", "self.addEventListener('fetch', e => e.respondWith(new Response('forged')));\n")
        // Round 145: the same with one NUL byte in it, and in UTF-16 without a byte-order mark
        // (mostly CJK, so no half of its bytes is all zeros), read as text by no rule above.
        try Data(Array("---\nprivacy: private\n---\nZEBRANUL my therapist said\n".utf8) + [0] + Array("more\n".utf8)).write(to: URL(fileURLWithPath: v.root + "/Site/nul.txt"))
        let cjk = "---\nprivacy: private\n---\n" + String(repeating: "我的治疗师说了很多话今天", count: 20) + "\n"
        try Data(Array(cjk.utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }).write(to: URL(fileURLWithPath: v.root + "/Site/cjk.txt"))
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52]).write(to: URL(fileURLWithPath: v.root + "/Site/pixel.png"))
        #expect(try HTTPClient.get(server.url(for: "Site/pixel.png"), timeout: 10).status == 200)
        // Round 146: a UTF-8 head with the marker before UTF-16 text (PowerShell 5's `>>` onto a
        // UTF-8 file) was guessed UTF-16 as a whole; a lone surrogate in UTF-16 with a byte-order
        // mark made that reading fail while Chromium showed the text.
        let tail = String(repeating: "Today I wrote a lot of things down. ", count: 40)
        try Data(Array("---\nprivacy: private\n---\nZEBRAMIXED\n".utf8) + Array(tail.utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
            .write(to: URL(fileURLWithPath: v.root + "/Site/mixed.txt"))
        let surrogate = [UInt16(0xFEFF)] + Array("---\nprivacy: private\n---\nZEBRASURROGATE ".utf16) + [0xD800] + Array(tail.utf16)
        try Data(surrogate.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }).write(to: URL(fileURLWithPath: v.root + "/Site/surrogate.txt"))
        // A picture is judged as it reads (no text): served.
        var random = SystemRandomNumberGenerator()
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10] + (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &random) }).write(to: URL(fileURLWithPath: v.root + "/Site/photo.jpg"))
        #expect(try HTTPClient.get(server.url(for: "Site/photo.jpg"), timeout: 30).status == 200)
        for refused in ["Site/notes.txt", "Site/diary.markdown", "Site/broken.txt", "Site/nul.txt", "Site/cjk.txt", "Site/mixed.txt", "Site/surrogate.txt"] {
            #expect(try HTTPClient.get(server.url(for: refused), timeout: 10).status == 404, "\(refused)")
        }
        #expect(try HTTPClient.get(server.url(for: "Site/readme.txt"), timeout: 10).status == 200)
        #expect(try HTTPClient.get(server.url(for: "Site/sw.js"), timeout: 10).status == 200)
        let worker = HTTPClient.Request(method: "GET", url: server.url(for: "Site/sw.js"), headers: [HTTPClient.Header("Service-Worker", "script")])
        #expect(try HTTPClient.send(worker, timeout: 10).status == 404)
        // Too big to be read whole and judged.
        let big = FileManager.default.createFile(atPath: v.root + "/Site/big.bin", contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: v.root + "/Site/big.bin"))
        try handle.truncate(atOffset: UInt64(VaultPageServer.largestFile + 1))
        try handle.close()
        #expect(big)
        let bigAnswer = try HTTPClient.get(server.url(for: "Site/big.bin"), timeout: 10)
        #expect(bigAnswer.status == 404)
        // A name the server never serves is not repeated in the result.
        #expect(server.showingVaultPaths("404 (\(server.url(for: "Private/Bank.md"))) and (\(server.url(for: "Site/gone.css")))") == "404 ((a file pages may not load)) and (Site/gone.css)")
        #expect(server.showingVaultPaths("Failed to load resource (\(server.url(for: "Site/My café page.html")))") == "Failed to load resource (Site/My café page.html)")
    }
}
