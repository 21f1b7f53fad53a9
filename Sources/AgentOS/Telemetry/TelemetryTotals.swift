import Foundation

/// The totals line of a day's telemetry note (`**Totals:** 12 runs · $0.1234 (reported … · estimated
/// … · reserved …) · …`), worked out from the note's own rows each time a batch appends to it, so it
/// stays current without a second record to keep in step.
enum TelemetryTotals {
    /// The comment that marks the line (Obsidian does not show it).
    static let marker = "<!-- totals -->"

    /// The note's text with its totals line replaced, or put right above the table when it has none.
    static func refresh(_ text: String) -> String {
        var lines = text.components(separatedBy: "\n")
        let line = totalsLine(rows: lines)
        if let at = lines.firstIndex(where: { $0.hasSuffix(marker) }) {
            lines[at] = line
        } else if let table = lines.firstIndex(where: { $0.hasPrefix("| time |") }) {
            lines.insert(contentsOf: [line, ""], at: table)
        } else {
            return text
        }
        return lines.joined(separator: "\n")
    }

    /// The totals of the rows (table lines carrying a run marker) among `lines`.
    static func totalsLine(rows lines: [String]) -> String {
        var runs = 0, tokensIn = 0, tokensOut = 0
        var cost = 0.0
        var bySource: [String: Double] = [:]
        var outcomes: [String: Int] = [:]
        for line in lines where line.hasPrefix("| ") && line.contains("<!-- run:") {
            let cells = line.dropFirst(2).components(separatedBy: " | ")
            guard cells.count >= 10 else { continue }
            runs += 1
            let money = cells[5].split(separator: " ")
            if let amount = money.first.flatMap({ Double($0) }) {
                cost += amount
                bySource[money.count > 1 ? String(money[1]) : "unknown", default: 0] += amount
            }
            tokensIn += Int(cells[6]) ?? 0
            tokensOut += Int(cells[7]) ?? 0
            let outcome = cells[9].split(separator: ",").first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
            if !outcome.isEmpty { outcomes[outcome, default: 0] += 1 }
        }
        let sources = (CostSource.allCases.map(\.rawValue) + ["unknown"]).compactMap { name in
            bySource[name].map { "\(name) $" + String(format: "%.4f", $0) }
        }
        var text = "**Totals:** \(runs) \(runs == 1 ? "run" : "runs") · $" + String(format: "%.4f", cost)
        if !sources.isEmpty { text += " (" + sources.joined(separator: " · ") + ")" }
        text += " · tokens \(tokensIn) in / \(tokensOut) out"
        if !outcomes.isEmpty { text += " · " + outcomes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ") }
        return text + " " + marker
    }
}
