import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// The template compiled into the binary must be byte-for-byte the `vault-template/` and `rules/`
/// folders. Run `FBT_REGENERATE_TEMPLATE=1 swift test --filter TemplateSyncTests` after editing
/// them: the test then rewrites `VaultTemplateFiles.swift` (and still fails once, so a stale build
/// is never mistaken for a passing one).
@Suite struct TemplateSyncTests {
    static let generatedFile = RepositoryPaths.file("Sources/AgentOS/Vault/VaultTemplateFiles.swift")

    /// The template files as they are in the repository folders, in the embedded order.
    static func filesOnDisk() throws -> [TemplateFile] {
        var files: [TemplateFile] = []
        for folder in [VaultTemplate.templateFolder, VaultTemplate.rulesFolder] {
            let base = RepositoryPaths.file(folder)
            var found: [String] = []
            let enumerator = FileManager.default.enumerator(atPath: base)
            while let relative = enumerator?.nextObject() as? String {
                var isDirectory: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: base + "/" + relative, isDirectory: &isDirectory)
                if !isDirectory.boolValue, !relative.hasSuffix(".DS_Store") { found.append(relative) }
            }
            for relative in found.sorted() {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: base + "/" + relative))
                guard let text = String(data: bytes, encoding: .utf8) else {
                    throw TemplateSyncError(message: "\(folder)/\(relative) is not UTF-8 text")
                }
                let vaultPath = VaultTemplate.vaultPath(forRepositoryPath: folder + "/" + relative)!
                files.append(TemplateFile(path: vaultPath, contents: text))
            }
        }
        return files
    }

    struct TemplateSyncError: Error, CustomStringConvertible { let message: String; var description: String { message } }

    /// Renders the generated Swift source: one raw multi-line string literal per file.
    static func render(_ files: [TemplateFile]) -> String {
        var out = """
        // Generated from vault-template/ and rules/ by `FBT_REGENERATE_TEMPLATE=1 swift test --filter TemplateSyncTests`.
        // Do not edit: edit the folders and regenerate; a test fails when this file and the folders differ.

        /// The vault template and default rules, compiled into the binary.
        enum VaultTemplateFiles {
            /// Every file, vault-template/ first, then rules/ (as Rules/), each sorted by path.
            static let all: [TemplateFile] = [

        """
        for file in files {
            // Enough `#` that neither the closing delimiter nor an interpolation can occur inside.
            var hashes = "#"
            while file.contents.contains("\"\"\"" + hashes) || file.contents.contains("\\" + hashes) || file.contents.contains("\"" + hashes) {
                hashes += "#"
            }
            out += "        TemplateFile(path: \(literal(file.path)), contents: \(hashes)\"\"\"\n"
            out += file.contents
            out += "\n\"\"\"\(hashes)),\n"
        }
        out += "    ]\n}\n"
        return out
    }

    static func literal(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    @Test func embeddedTemplateMatchesTheFolders() throws {
        let onDisk = try Self.filesOnDisk()
        #expect(!onDisk.isEmpty)
        if ProcessInfo.processInfo.environment["FBT_REGENERATE_TEMPLATE"] == "1" {
            let source = Self.render(onDisk)
            let current = try? String(contentsOfFile: Self.generatedFile, encoding: .utf8)
            if current != source {
                try source.replacingFile(Self.generatedFile)
                Issue.record("regenerated \(Self.generatedFile); build and test again")
            }
            return
        }
        let embedded = VaultTemplate.files
        #expect(embedded.map(\.path) == onDisk.map(\.path), "file list differs; run FBT_REGENERATE_TEMPLATE=1 swift test --filter TemplateSyncTests")
        for file in onDisk {
            let match = embedded.first { $0.path == file.path }
            #expect(match?.contents == file.contents, "\(file.path) differs from the embedded copy; regenerate")
        }
    }

    @Test func everyLayoutFolderHasAReadme() {
        let paths = Set(VaultTemplate.files.map(\.path))
        for folder in Vault.Layout.folders {
            #expect(paths.contains(folder + "/README.md"), "\(folder)/README.md is missing from the template")
        }
    }
}
