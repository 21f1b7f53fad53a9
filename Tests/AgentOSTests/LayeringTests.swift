import Foundation
import Testing

/// The layers: CSQLite → AgentOS → Commands → fuckbigtech. The compiler already stops `AgentOS`
/// from using a `Commands` type; this also keeps its code and its comments from leaning on one
/// (a library that throws `CLIError` or prints to a `Console` would know the CLI exists).
@Suite struct LayeringTests {
    static let sources: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path + "/Sources"
    }()

    /// Every Swift file under a source folder, with its text.
    func swiftFiles(in folder: String) throws -> [(path: String, text: String)] {
        let root = Self.sources + "/" + folder
        let enumerator = try #require(FileManager.default.enumerator(atPath: root))
        return try enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }.map { path in
            (folder + "/" + path, try String(contentsOfFile: root + "/" + path, encoding: .utf8))
        }
    }

    @Test func theLibraryNamesNoTypeOfTheCommands() throws {
        let commands = try swiftFiles(in: "Commands")
        let declaration = try NSRegularExpression(pattern: "^\\s*(?:public |private |fileprivate )?(?:final )?(?:enum|struct|class|protocol|typealias) ([A-Za-z_][A-Za-z0-9_]*)", options: .anchorsMatchLines)
        var names = Set<String>()
        for file in commands {
            for match in declaration.matches(in: file.text, range: NSRange(file.text.startIndex..., in: file.text)) {
                if let range = Range(match.range(at: 1), in: file.text) { names.insert(String(file.text[range])) }
            }
        }
        // The declarations this test is about are found at all.
        #expect(names.isSuperset(of: ["CLI", "CLIError", "Console", "CommandSpec", "ParsedArguments", "ServiceCommand"]))
        let library = try swiftFiles(in: "AgentOS")
        #expect(library.count > 50)
        var found: [String] = []
        for file in library {
            if file.text.contains("import Commands") { found.append("\(file.path): import Commands") }
            for name in names {
                // `CLI` is also a plain word ("the agent's CLI"); only `CLI.` names the type.
                let pattern = name == "CLI" ? "\\bCLI\\." : "\\b\(name)\\b"
                if file.text.range(of: pattern, options: .regularExpression) != nil { found.append("\(file.path): \(name)") }
            }
        }
        #expect(found.isEmpty, "Sources/AgentOS mentions the Commands layer: \(found.sorted())")
    }
}
