import AgentOS
import Foundation
import TestSupport
import Testing

/// Raw bytes at the real `fuckbigtech mcp`: whatever arrives, it answers with JSON-RPC errors,
/// keeps serving, exits 0 at end of input, and writes nothing but JSON-RPC lines to stdout.
@Suite struct MCPFuzzTests {
    /// Runs the server on `input` (bytes, not text: invalid UTF-8 must reach it as it is).
    static func serve(_ input: [UInt8], sandbox: EndToEndTests.Sandbox, vault: String) throws -> ProcessOutcome {
        let file = sandbox.root + "/input.bin"
        try Data(input).write(to: URL(fileURLWithPath: file))
        return try ChildProcess.run("/bin/sh", ["-c", "exec \"$0\" mcp --vault \"$1\" < \"$2\"", try BuiltBinary.path(), vault, file],
                                    environment: ["PATH": "/usr/bin:/bin", "HOME": sandbox.home, "NO_COLOR": "1"], timeout: 120)
    }

    /// Every stdout line, parsed; fails the test on a line that is not a JSON-RPC 2.0 response.
    static func responses(_ stdout: String) -> [[String: Any]] {
        var out: [[String: Any]] = []
        for line in stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["jsonrpc"] as? String == "2.0", (object["result"] != nil) != (object["error"] != nil), object.keys.contains("id") else {
                Issue.record("not a JSON-RPC response on stdout: \(line.prefix(200))")
                continue
            }
            out.append(object)
        }
        #expect(stdout.isEmpty || stdout.hasSuffix("\n"))
        return out
    }

    static func code(_ response: [String: Any]) -> Int? { (response["error"] as? [String: Any])?["code"] as? Int }

    @Test func malformedMessagesAreAnsweredWithErrorsAndTheServerKeepsServing() throws {
        let sandbox = try EndToEndTests.Sandbox()
        let made = try EndToEndTests.run(["init", sandbox.vault], in: sandbox)
        try #require(made.code == 0)
        var input: [UInt8] = []
        func line(_ text: String) { input += Array(text.utf8) + [0x0A] }
        line(#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)                       // ok
        line(#"{"jsonrpc":"2.0","id":2,"method":"initialize""#)                  // -32700: cut short
        line("not json at all")                                                    // -32700
        line(#"{"jsonrpc":"2.0","id":3,"method":"frobnicate"}"#)                 // -32601
        line(#"{"jsonrpc":"1.0","id":4,"method":"ping"}"#)                       // -32600: version
        line(#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#)                    // -32600: null id
        line(#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#)                 // -32600: object id
        line(#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#)                    // -32600: bool id
        line(#"{"jsonrpc":"2.0","id":5,"method":7}"#)                            // -32600: method not a string
        line(#"[{"jsonrpc":"2.0","id":6,"method":"ping"}]"#)                     // -32600: batch
        line(#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":[1]}"#)    // -32602: params not an object
        line(#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"no_such_tool"}}"#) // -32602
        line(#"{"jsonrpc":"2.0","id":9,"method":"initialize","params":{}}"#)     // -32602: no protocolVersion
        line(#"{"jsonrpc":"2.0","id":10,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"1999-01-01"}}}"#) // -32022
        line(#"{"jsonrpc":"2.0","method":"notifications/unknown"}"#)            // a notification: no answer
        line(#"{"jsonrpc":"2.0","id":99,"result":{}}"#)                          // a stray response: no answer
        // A message far over the 4 MiB limit: refused, not buffered.
        input += Array(#"{"jsonrpc":"2.0","id":11,"method":"ping","params":{"pad":""#.utf8) + [UInt8](repeating: 0x61, count: 6 << 20) + Array(#""}}"#.utf8) + [0x0A]
        // Binary garbage: invalid UTF-8, NUL, control bytes, a lone CR.
        input += [0xFF, 0xFE, 0x00, 0xC3, 0x28, 0x1B, 0x5B, 0x32, 0x4A, 0x0D, 0x0A]
        // Seeded random lines of random bytes (no newline inside).
        var seed: UInt64 = 0x5EED
        for _ in 0..<200 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let length = Int(seed >> 54) + 1
            var bytes: [UInt8] = []
            for _ in 0..<length {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                let byte = UInt8(truncatingIfNeeded: seed >> 33)
                bytes.append(byte == 0x0A ? 0x20 : byte)
            }
            input += bytes + [0x0A]
        }
        line(#"{"jsonrpc":"2.0","id":"last","method":"tools/list"}"#)           // still serving
        let outcome = try Self.serve(input, sandbox: sandbox, vault: sandbox.vault)
        #expect(outcome.code == 0, "\(outcome.stderr.suffix(500))")
        let responses = Self.responses(outcome.stdout)
        func response(_ id: Int) -> [String: Any]? { responses.first { ($0["id"] as? Int) == id } }
        #expect(response(1)?["result"] != nil)
        #expect(Self.code(response(3) ?? [:]) == -32601)
        #expect(Self.code(response(4) ?? [:]) == -32600)
        #expect(Self.code(response(5) ?? [:]) == -32600)
        #expect(Self.code(response(7) ?? [:]) == -32602)
        #expect(Self.code(response(8) ?? [:]) == -32602)
        #expect(Self.code(response(9) ?? [:]) == -32602)
        let unsupported = response(10)?["error"] as? [String: Any]
        #expect(unsupported?["code"] as? Int == -32022)
        #expect((unsupported?["data"] as? [String: Any])?["requested"] as? String == "1999-01-01")
        #expect(response(11) == nil, "the oversized message was read")
        #expect(response(99) == nil)
        let nullIDCodes = responses.filter { $0["id"] is NSNull }.compactMap(Self.code)
        #expect(nullIDCodes.filter { $0 == -32700 }.count >= 2 + 1 + 150, "malformed lines not each answered: \(nullIDCodes.count)")
        #expect(nullIDCodes.contains(-32600))
        #expect(outcome.stderr.contains("refused a message longer than"))
        let last = responses.last
        #expect(last?["id"] as? String == "last")
        #expect(((last?["result"] as? [String: Any])?["tools"] as? [Any])?.count == 11)
    }
}
