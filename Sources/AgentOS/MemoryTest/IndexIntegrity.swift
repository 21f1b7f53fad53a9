import Foundation

/// A throw-away copy of a vault's notes in a temporary folder: the memory test runs there, so the
/// real vault (and its index) is never written by it.
public struct ScratchVault {
    /// The temporary folder holding the copy (removed by `remove()`).
    public let folder: String
    /// The copy.
    public let vault: Vault
    /// Notes copied.
    public let notes: Int

    /// Copies every note of `original` (the `.md` files the index would read; never `.agentos/`, so
    /// the copy starts without an index) into a new temporary folder.
    public static func copy(of original: Vault) throws -> ScratchVault {
        let folder = NSTemporaryDirectory() + "fuckbigtech-memory-test-\(getpid())-\(UUID().uuidString.prefix(8))"
        let root = folder + "/vault"
        // The memory test's own report notes are left out: each run would otherwise add one, and
        // their tables would compete with the notes they describe.
        let files = VaultWalker.walk(original).files.filter { !isReportNote($0.path) }
        var made: Set<String> = []
        do {
            // Only this user may read the copy: it holds the vault's private notes too.
            try FileSystem.makeDirectories(folder, mode: 0o700)
            try FileSystem.makeDirectories(root)
            for file in files {
                let target = root + "/" + file.path
                let directory = (target as NSString).deletingLastPathComponent
                if made.insert(directory).inserted { try FileSystem.makeDirectories(directory) }
                // Bytes only: the copy needs no timestamps or modes, and skipping them is faster.
                let bytes = try FileSystem.read(original.root + "/" + file.path).bytes
                guard FileManager.default.createFile(atPath: target, contents: Data(bytes)) else {
                    throw MemoryTestError.copy("cannot write \(target)")
                }
            }
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw MemoryTestError.copy("\(error)")
        }
        return ScratchVault(folder: folder, vault: Vault(root: root), notes: files.count)
    }

    /// Whether a path is one of the memory test's report notes (`Telemetry/memory-test …`).
    public static func isReportNote(_ path: String) -> Bool {
        path.hasPrefix(Vault.Layout.telemetry + "/memory-test ")
    }

    /// Deletes the copy.
    public func remove() {
        try? FileManager.default.removeItem(atPath: folder)
    }
}

/// Index integrity: the copy's fresh index against the files on disk, and the real vault's index drift.
public enum IndexIntegrity {
    /// Indexes every note of the copy and compares: one row per note, each row's content hash equal to
    /// the file's, no row without a file, and as many section rows as the notes say they have.
    public static func checkCopy(index: MemoryIndex, summary: ReconcileSummary, originalNotes: Int) throws -> MemoryTestCheck {
        let walk = VaultWalker.walk(index.vault)
        let skipped = Dictionary(summary.skipped.map { ($0.path, $0.reason) }, uniquingKeysWith: { a, _ in a })
        var rows: [String: Int64] = [:]
        let statement = try index.database.prepare("SELECT path, hash FROM notes")
        while try statement.step() { rows[statement.text(0)] = statement.int64(1) }
        statement.reset()
        var problems: [String] = []
        var matched = 0
        for file in walk.files.sorted(by: { $0.path < $1.path }) {
            if let reason = skipped[file.path] {
                // A file the index leaves out on purpose (binary, too large) must have no row.
                if rows.removeValue(forKey: file.path) != nil { problems.append("\(file.path): skipped (\(reason)) but has an index row") }
                continue
            }
            guard let hash = rows.removeValue(forKey: file.path) else {
                problems.append("\(file.path): on disk but not in the index")
                continue
            }
            let bytes = try FileSystem.read(index.vault.root + "/" + file.path, limit: MemoryIndex.maxNoteBytes).bytes
            if Int64(bitPattern: ContentHash(of: bytes).value) == hash {
                matched += 1
            } else {
                problems.append("\(file.path): the index row's hash differs from the file's")
            }
        }
        for path in rows.keys.sorted() { problems.append("\(path): in the index but not on disk") }
        let sectionRows = try index.database.scalarInt("SELECT count(*) FROM sections") ?? 0
        let sectionsClaimed = try index.database.scalarInt("SELECT coalesce(sum(section_count), 0) FROM notes") ?? 0
        if sectionRows != sectionsClaimed {
            problems.append("\(sectionRows) full-text section rows, but the notes list \(sectionsClaimed)")
        }
        if walk.files.count != originalNotes {
            problems.append("the copy has \(walk.files.count) notes, the vault \(originalNotes)")
        }
        let skippedText = skipped.isEmpty ? "" : ", \(skipped.count) skipped on purpose (\(Set(skipped.values.map(\.description)).sorted().joined(separator: "; ")))"
        let detail = "\(walk.files.count) notes on disk, \(matched) rows with matching hashes, \(sectionRows) sections\(skippedText)"
        return MemoryTestCheck(name: "index (copy)", status: problems.isEmpty ? .ok : .fail, detail: detail, problems: problems)
    }

    /// The real vault's own index against its notes (read-only, through `IndexHealth`). A missing,
    /// unreadable or other-version index fails; drift (notes changed since the last index) is a
    /// warning, because the watcher catches up with edits made while it was stopped.
    public static func checkVault(_ vault: Vault) -> MemoryTestCheck {
        let health = IndexHealth.check(vault: vault)
        if let problem = health.problem {
            return MemoryTestCheck(name: "index (vault)", status: .fail, detail: "\(vault.databasePath): \(problem)", problems: [])
        }
        let counts = "\(health.notesOnDisk) notes, \(health.rowsInIndex) rows"
        if health.drift == 0 {
            return MemoryTestCheck(name: "index (vault)", status: .ok, detail: "\(counts), no drift")
        }
        // The report notes of earlier runs are written after this check; unless a watcher indexed
        // them they are the only drift, and they are no sign of a memory problem.
        let unindexedReports = unindexedReportNotes(vault)
        if health.staleInIndex == 0 && health.orphanedInIndex == 0 && health.missingFromIndex == unindexedReports {
            return MemoryTestCheck(name: "index (vault)", status: .ok, detail: "\(counts), no drift but \(unindexedReports) memory-test report notes not indexed yet")
        }
        var parts: [String] = []
        if health.missingFromIndex > 0 { parts.append("\(health.missingFromIndex) not indexed") }
        if health.staleInIndex > 0 { parts.append("\(health.staleInIndex) changed since indexed") }
        if health.orphanedInIndex > 0 { parts.append("\(health.orphanedInIndex) rows for deleted notes") }
        return MemoryTestCheck(name: "index (vault)", status: .warn, detail: "\(counts), drift: \(parts.joined(separator: ", ")); run 'fuckbigtech index' (or keep 'watch' running)")
    }

    /// Report notes on disk that the vault's index has no row for (read-only).
    static func unindexedReportNotes(_ vault: Vault) -> Int {
        let onDisk = VaultWalker.markdownFiles(in: vault, under: Vault.Layout.telemetry).filter(ScratchVault.isReportNote)
        guard !onDisk.isEmpty, let index = try? MemoryIndex.openForReading(vault: vault),
              let indexed = try? index.database.query("SELECT path FROM notes WHERE path LIKE ?", [.text(Vault.Layout.telemetry + "/memory-test %")], row: { $0.text(0) }) else { return onDisk.count }
        return Set(onDisk).subtracting(indexed).count
    }
}
