import Foundation

/// `memory-test`'s engine comparison: the task-retrieval cases asked of our index alone, of qmd
/// alone and of both merged (what a packet gets with `qmd:` on), each ranked the way
/// `TaskRetrievalCases` ranks (hit@3, MRR over the first 10), and which of them retrieves best.
enum QMDComparison {
    /// The three engines' figures for one run.
    struct Result {
        /// Our index alone.
        var ours = TaskRetrievalCases.Figures()
        /// qmd alone.
        var qmd = TaskRetrievalCases.Figures()
        /// Both, merged as a packet merges them.
        var merged = TaskRetrievalCases.Figures()
        /// The first qmd failure, if qmd failed on any case.
        var failure: String?
        /// Cases qmd failed on.
        var failedCases = 0
    }

    /// The `engines` check line: `skip` when qmd is off or not on PATH, `warn` when qmd failed.
    static func check(cases: [TaskRetrievalCase], vault: Vault, index: MemoryIndex, environment: [String: String] = ProcessInfo.processInfo.environment) -> MemoryTestCheck {
        let guardrails = RuleBook.load(vault: vault).guardrails
        guard let mode = guardrails.qmdMode else {
            return MemoryTestCheck(name: "engines", status: .skip, detail: "only our index: qmd is off (set qmd: search in \(Vault.Layout.rules)/Guardrails.md to compare it)")
        }
        guard let engine = QMDEngine.configured(guardrails, environment: environment) else {
            return MemoryTestCheck(name: "engines", status: .skip, detail: "qmd: \(mode) is set but qmd is not on PATH (npm install -g @tobilu/qmd)")
        }
        guard !cases.isEmpty else { return MemoryTestCheck(name: "engines", status: .skip, detail: "no task-retrieval case to compare the engines on") }
        let result = compare(cases, vault: vault, index: index, engine: engine)
        func figures(_ f: TaskRetrievalCases.Figures) -> String {
            String(format: "hit@3 %.1f %%, MRR %.3f", f.hitAtThree, f.meanReciprocalRank)
        }
        let ranked = [("ours", result.ours), ("qmd \(mode)", result.qmd), ("merged", result.merged)]
        let best = ranked.max { a, b in (a.1.hits, a.1.reciprocalRankSum) < (b.1.hits, b.1.reciprocalRankSum) }!
        let tie = ranked.filter { ($0.1.hits, $0.1.reciprocalRankSum) == (best.1.hits, best.1.reciprocalRankSum) }.map(\.0)
        let verdict = tie.count == ranked.count ? "all three retrieve equally well"
            : tie.count > 1 ? "\(tie.joined(separator: " and ")) retrieve equally well" : "\(best.0) retrieves best"
        let detail = "ours \(figures(result.ours)); qmd \(mode) \(figures(result.qmd)); merged \(figures(result.merged)) over \(cases.count) cases: \(verdict)"
        if let failure = result.failure {
            return MemoryTestCheck(name: "engines", status: .warn, detail: detail, problems: ["qmd failed on \(result.failedCases) of \(cases.count) cases: \(failure)"])
        }
        return MemoryTestCheck(name: "engines", status: .ok, detail: detail)
    }

    /// Asks every case of each engine; the packet builder's own retrieval gives ours and merged.
    static func compare(_ cases: [TaskRetrievalCase], vault: Vault, index: MemoryIndex, engine: QMDEngine) -> Result {
        var ours = ContextPacketBuilder(vault: vault, guardrails: RuleBook.load(vault: vault).guardrails)
        ours.qmd = nil
        let scope = RelatedScope(excludedFolders: ours.guardrails.memoryExclude)
        let limit = ours.memoryMatches * 2
        var result = Result()
        for item in cases {
            let mine = ours.retrieve(text: item.text, index: index)
            let theirs: [RelatedHit]
            do {
                theirs = try engine.hits(for: item.text, limit: limit, vault: vault, scope: scope)
            } catch {
                result.failedCases += 1
                if result.failure == nil { result.failure = error.description }
                theirs = []
            }
            add(item, mine, to: &result.ours)
            add(item, theirs, to: &result.qmd)
            add(item, QMDEngine.merge(ours: mine, theirs: theirs, limit: limit), to: &result.merged)
        }
        return result
    }

    /// Counts one case: where its target note comes among the first `rankDepth` hits.
    static func add(_ item: TaskRetrievalCase, _ hits: [RelatedHit], to figures: inout TaskRetrievalCases.Figures) {
        if item.source == "generated" { figures.generated += 1 } else { figures.fromNotes += 1 }
        let ranked = hits.prefix(TaskRetrievalCases.rankDepth)
        guard let position = ranked.firstIndex(where: { $0.path == item.target }) else { return }
        let rank = position - ranked.startIndex + 1
        if rank <= TaskRetrievalCases.hitDepth { figures.hits += 1 }
        figures.reciprocalRankSum += 1 / Double(rank)
    }
}
