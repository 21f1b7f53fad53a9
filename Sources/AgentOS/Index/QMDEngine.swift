import Foundation

/// qmd (github.com/tobi/qmd: BM25, vectors and re-ranking over Markdown) as an optional second
/// memory engine. With `qmd: search|query|vsearch` in `Rules/Guardrails.md` and `qmd` on PATH, a
/// context packet's retrieval also runs `qmd MODE TEXT --json -n N [-c COLLECTION]` and merges its
/// hits with ours (`merge`, reciprocal-rank fusion); `memory-test` compares the engines on the same
/// cases (`QMDComparison`).
///
/// qmd's own index must cover this vault (`qmd collection add ~/AgentOS --name vault`, `qmd update`;
/// for `query`/`vsearch` also `qmd embed`); its hits are mapped back to vault paths and a hit outside
/// the vault is dropped. Every hit then passes the same checks as ours — `memory_exclude`, the
/// task's own notes, privacy and secrets, judged by the packet builder on the text it takes.
/// A qmd that fails, hangs or prints something else leaves retrieval to our index alone.
public struct QMDEngine: Sendable, Equatable {
    /// The qmd commands a vault may choose: `search` (BM25, fast), `query` (hybrid with
    /// re-ranking, needs `qmd embed` and local models), `vsearch` (vectors only).
    public static let modes = ["search", "query", "vsearch"]

    /// The qmd program (absolute path).
    public var executable: String
    /// `search`, `query` or `vsearch`.
    public var mode: String
    /// qmd's `-c` collection, or `nil` for all.
    public var collection: String?
    /// Seconds qmd may take before its hits are given up.
    public var timeout: Double

    /// An engine from its parts.
    public init(executable: String, mode: String = "search", collection: String? = nil, timeout: Double = 20) {
        self.executable = executable
        self.mode = mode
        self.collection = collection
        self.timeout = timeout
    }

    /// The engine the guardrails turn on, when `qmd` is on `environment`'s PATH; else `nil`.
    public static func configured(_ guardrails: Guardrails, environment: [String: String] = ProcessInfo.processInfo.environment) -> QMDEngine? {
        guard let mode = guardrails.qmdMode, let path = try? Spawn.resolveExecutable("qmd", searchPath: environment["PATH"] ?? "") else { return nil }
        return QMDEngine(executable: path, mode: mode, collection: guardrails.qmdCollection)
    }

    /// Why qmd gave no hits, one line.
    public struct QMDError: Error, Equatable, Sendable, CustomStringConvertible {
        /// What went wrong, saying what to do.
        public var message: String
        public var description: String { message }
    }

    /// The argv for one question: `qmd MODE TEXT --json -n LIMIT [-c COLLECTION]`. The text is
    /// one argument after `--`, so a text starting with `-` is never taken for an option.
    public func arguments(text: String, limit: Int) -> [String] {
        [mode, "--json", "-n", String(limit)] + (collection.map { ["-c", $0] } ?? []) + ["--", text]
    }

    /// qmd's hits for `text`, best first, as vault notes: at most `limit`, none that `scope`
    /// excludes. Never throws for an empty answer; throws with the reason when qmd fails.
    public func hits(for text: String, limit: Int, vault: Vault, scope: RelatedScope = RelatedScope()) throws(QMDError) -> [RelatedHit] {
        // The query as words only: qmd's own query syntax (quotes, `-term`, `lex:`) must not be
        // triggered by a task's punctuation.
        let words = RelatedQuery.words(from: text).prefix(RelatedQuery.maxWords).joined(separator: " ")
        guard !words.isEmpty else { return [] }
        let result: Spawn.Result
        do {
            result = try Spawn.run(Spawn.Options(executable: executable, arguments: arguments(text: words, limit: limit),
                                                 environment: ProcessInfo.processInfo.environment, workingDirectory: vault.root,
                                                 timeout: timeout, terminationGrace: 0.5, stdoutLimit: 8 << 20, stderrLimit: 64 << 10))
        } catch {
            throw QMDError(message: "qmd could not start: \(error.description)")
        }
        if result.timedOut { throw QMDError(message: "qmd \(mode) gave no answer within \(PropertyValue.format(double: timeout)) s") }
        guard case .exited(0) = result.termination else {
            let why = String(decoding: result.stderrTail, as: UTF8.self).split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
            throw QMDError(message: "qmd \(mode) failed (\(result.termination.description))" + (why.isEmpty ? "" : ": " + why.prefix(200)))
        }
        let parsed = try QMDEngine.parse(result.stdout, vault: vault)
        return Array(parsed.filter { !scope.excludes($0.path) }.prefix(limit))
    }

    /// qmd's `--json` answer — an array of `{docid, score, file, title, context?, snippet?}` where
    /// `file` is `qmd://COLLECTION/PATH` (or `COLLECTION/PATH`) and a snippet starts with
    /// `@@ -LINE,COUNT @@` — as vault notes. A file is found in the vault by its path below the
    /// collection, else by the whole path, else by its name through the vault's link resolver.
    public static func parse(_ bytes: [UInt8], vault: Vault) throws(QMDError) -> [RelatedHit] {
        let text = String(decoding: bytes, as: UTF8.self).trimmingWhitespacesAndNewlines()
        if text.isEmpty || text == "No results found." { return [] }
        guard let json = try? JSON.parse(text), let items = json.arrayValue else {
            throw QMDError(message: "qmd's answer is not a JSON array: \(text.prefix(80))")
        }
        let links = LinkResolver(vault: vault)
        var hits: [RelatedHit] = []
        var seen = Set<String>()
        for item in items {
            guard let file = item["file"]?.stringValue, let path = vaultPath(file, vault: vault, links: links), seen.insert(path).inserted else { continue }
            var line = 1, end = Int.max
            if let snippet = item["snippet"]?.stringValue, let range = snippetLines(snippet) { (line, end) = range }
            let title = item["title"]?.stringValue ?? ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            hits.append(RelatedHit(path: path, title: title, heading: "", line: line, endLine: end, score: item["score"]?.doubleValue ?? 0))
        }
        return hits
    }

    /// `qmd://vault/Memory/Auth design.md` → `Memory/Auth design.md` when that note exists here.
    static func vaultPath(_ file: String, vault: Vault, links: LinkResolver) -> String? {
        var rest = file.hasPrefix("qmd://") ? String(file.dropFirst("qmd://".count)) : file
        while rest.hasPrefix("/") { rest.removeFirst() }
        guard rest.lowercased().hasSuffix(".md") else { return nil }
        var candidates: [String] = []
        if let slash = rest.firstIndex(of: "/") { candidates.append(String(rest[rest.index(after: slash)...])) }
        candidates.append(rest)
        // Nothing under a `.` folder is a note (`.trash/`, where Obsidian moves deleted notes, private
        // ones too; `.obsidian/`; `.agentos/`): the index never reads there, nor does a packet.
        guard !rest.split(separator: "/").contains(where: { $0.hasPrefix(".") }) else { return nil }
        for candidate in candidates where !candidate.split(separator: "/").contains("..") {
            if (try? vault.resolve(candidate)).flatMap({ try? FileSystem.status($0) }) ?? nil != nil { return candidate }
        }
        let name = ((rest as NSString).lastPathComponent as NSString).deletingPathExtension
        return links.resolve(name, from: nil).path
    }

    /// The line range of a snippet's `@@ -LINE,COUNT @@` header.
    static func snippetLines(_ snippet: String) -> (Int, Int)? {
        guard snippet.hasPrefix("@@ -"), let close = snippet.range(of: " @@") else { return nil }
        let numbers = snippet[snippet.index(snippet.startIndex, offsetBy: 4)..<close.lowerBound].split(separator: ",").compactMap { Int($0) }
        guard numbers.count == 2, numbers[0] >= 1 else { return nil }
        return (numbers[0], numbers[0] + max(0, numbers[1] - 1))
    }

    /// Our hits and qmd's as one list, best first, by reciprocal-rank fusion: each list gives the
    /// hit at rank r a score of 1 / (60 + r), so a note both engines rank high comes first and either
    /// engine alone can still bring a note in. A qmd hit for a note we found too adds its score to our
    /// sections of that note (they name the part to send) instead of adding the whole note again.
    public static func merge(ours: [RelatedHit], theirs: [RelatedHit], limit: Int) -> [RelatedHit] {
        var items = ours.enumerated().map { (hit: $0.element, score: 1 / (60 + Double($0.offset + 1)), order: $0.offset) }
        for (rank, hit) in theirs.enumerated() {
            let bonus = 1 / (60 + Double(rank + 1))
            let mine = items.indices.filter { items[$0].hit.path == hit.path }
            if mine.isEmpty {
                items.append((hit, bonus, items.count))
            } else {
                for index in mine { items[index].score += bonus }
            }
        }
        items.sort { $0.score != $1.score ? $0.score > $1.score : $0.order < $1.order }
        return items.prefix(limit).map(\.hit)
    }

    /// The packet's retrieval with qmd merged in: `ours` alone when no engine is configured or qmd
    /// fails (the failure is not the task's problem), else the fused list.
    public static func merged(_ ours: [RelatedHit], engine: QMDEngine?, text: String, scope: RelatedScope, limit: Int, vault: Vault) -> [RelatedHit] {
        guard let engine, let theirs = try? engine.hits(for: text, limit: limit, vault: vault, scope: scope), !theirs.isEmpty else { return ours }
        return merge(ours: ours, theirs: theirs, limit: limit)
    }
}
