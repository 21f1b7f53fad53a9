import Foundation

/// The totals line of a day's telemetry note (`**Totals:** 12 runs · $0.1234 (reported … · estimated
/// … · reserved …) · …`), worked out from the note's own rows each time a batch appends to it, so it
/// stays current without a second record to keep in step.
///
/// Worked on the note's bytes: a day's note grows to hundreds of KB, and this runs on every batch
/// of a burst (cutting the whole note into Foundation strings, line by line and cell by cell, was 6 %
/// of the watcher's time in a 1,000-task burst). Bytes that are not UTF-8 pass through untouched.
enum TelemetryTotals {
    /// `total` with the count in `cell` added: a whole number from 0 to `AgentOutcome.largestTokens`
    /// (else nothing), the sum held at `Int.max`.
    static func adding(_ cell: String, to total: Int) -> Int {
        guard let count = Int(cell.trimmingWhitespaces()), count > 0 else { return total }
        let (sum, overflow) = total.addingReportingOverflow(min(count, AgentOutcome.largestTokens))
        return overflow ? Int.max : sum
    }

    /// The comment that marks the line (Obsidian does not show it).
    static let marker = "<!-- totals -->"

    /// The note's text with its totals line replaced, or put right above the table when it has none.
    static func refresh(_ text: String) -> String {
        String(decoding: refresh(bytes: Array(text.utf8)), as: UTF8.self)
    }

    /// `refresh` on a note's bytes.
    static func refresh(bytes: [UInt8]) -> [UInt8] {
        // Each line's content: a CR before its LF is the line ending, not text (a CRLF note's totals
        // line ends `<!-- totals -->\r`, and was not found).
        var lines: [Range<Int>] = []
        var start = 0
        var crlf = false
        for i in bytes.indices where bytes[i] == 0x0A {
            let ends = i > start && bytes[i - 1] == 0x0D
            if lines.isEmpty { crlf = ends }
            lines.append(start..<(ends ? i - 1 : i))
            start = i + 1
        }
        lines.append(start..<bytes.count)
        let markerBytes = Array(marker.utf8), tableHeader = Array("| time |".utf8)
        let line = Array(totalsLine(rows: lines.map { bytes[$0] }).utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + line.count + 2)
        if let at = lines.firstIndex(where: { bytes[$0].count >= markerBytes.count && bytes[$0].suffix(markerBytes.count).elementsEqual(markerBytes) }) {
            out += bytes[0..<lines[at].lowerBound]
            out += line
            out += bytes[lines[at].upperBound...]
            return out
        }
        guard let table = lines.firstIndex(where: { bytes[$0].starts(with: tableHeader) }) else { return bytes }
        out += bytes[0..<lines[table].lowerBound]
        out += line
        out += crlf ? [0x0D, 0x0A, 0x0D, 0x0A] : [0x0A, 0x0A]
        out += bytes[lines[table].lowerBound...]
        return out
    }

    /// The totals of the rows (table lines carrying a run marker) among `lines`, given as bytes.
    static func totalsLine(rows lines: [ArraySlice<UInt8>]) -> String {
        var runs = 0, tokensIn = 0, tokensOut = 0
        var cost = 0.0
        var bySource: [String: Double] = [:]
        var outcomes: [String: Int] = [:]
        let runMarker = Array("<!-- run:".utf8)
        for line in lines where line.count > 2 && line[line.startIndex] == 0x7C && line[line.startIndex + 1] == 0x20 {
            // The first ten cells (what the totals read) and whether there are ten; the row's text
            // after "| " is cut at each " | ", left to right, as `components(separatedBy:)` cuts it.
            let found: (cells: [Range<Int>], isRow: Bool) = line.withUnsafeBufferPointer { buffer in
                guard TelemetryWriter.find(runMarker, in: buffer, from: 0) != nil else { return ([], false) }
                var cells: [Range<Int>] = []
                var start = 2, i = 2
                while i + 2 < buffer.count && cells.count < 10 {
                    if buffer[i] == 0x20 && buffer[i + 1] == 0x7C && buffer[i + 2] == 0x20 {
                        cells.append(start..<i)
                        i += 3
                        start = i
                    } else {
                        i += 1
                    }
                }
                if cells.count < 10 { cells.append(start..<buffer.count) }
                return (cells, true)
            }
            guard found.isRow, found.cells.count >= 10 else { continue }
            func cell(_ n: Int) -> String {
                let range = found.cells[n]
                return String(decoding: line[(line.startIndex + range.lowerBound)..<(line.startIndex + range.upperBound)], as: UTF8.self)
            }
            runs += 1
            let money = cell(5).split(separator: " ")
            if let amount = money.first.flatMap({ Double($0) }) {
                cost += amount
                bySource[money.count > 1 ? String(money[1]) : "unknown", default: 0] += amount
            }
            // A cell is a figure a person or another machine may have written: counted up to what
            // an agent may report (`AgentOutcome.largestTokens`), the sum saturating (twenty
            // digits overflowed it, and stopped the watcher at every start: an outside attack).
            tokensIn = TelemetryTotals.adding(cell(6), to: tokensIn)
            tokensOut = TelemetryTotals.adding(cell(7), to: tokensOut)
            let outcome = cell(9).split(separator: ",").first.map { String($0).trimmingWhitespaces() } ?? ""
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
