import Foundation

/// Small charts drawn as SVG text by the OS itself (no packages), for the report note: Obsidian
/// shows an embedded `.svg` without plugins. Every chart has a white background, a title, axes
/// with a few labelled ticks and a legend, and is valid XML (all text escaped).
public enum SVGChart {
    /// One stacked bar: its label and the height of each series in it.
    public struct Bar: Sendable {
        public var label: String
        public var values: [String: Double]
        public init(label: String, values: [String: Double]) {
            self.label = label
            self.values = values
        }
    }

    /// Colours for series, in order (colour-blind friendly).
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"]

    static let width = 720.0, height = 320.0
    static let left = 64.0, right = 150.0, top = 40.0, bottom = 56.0

    /// Stacked bars, one per label, each split by series (e.g. runs per day, by lane).
    public static func stackedBars(title: String, bars: [Bar], series: [String], unit: String) -> String {
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let maximum = max(bars.map { $0.values.values.reduce(0, +) }.max() ?? 0, 1e-9)
        let scale = niceCeiling(maximum)
        var body = axes(title: title, maximum: scale, unit: unit)
        let slot = plotWidth / Double(max(bars.count, 1))
        let barWidth = max(2, slot * 0.7)
        for (i, bar) in bars.enumerated() {
            let x = left + Double(i) * slot + (slot - barWidth) / 2
            var y = top + plotHeight
            for (s, name) in series.enumerated() {
                let value = bar.values[name] ?? 0
                guard value > 0 else { continue }
                let h = value / scale * plotHeight
                y -= h
                body += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(barWidth))\" height=\"\(f(h))\" fill=\"\(palette[s % palette.count])\"><title>\(escape(bar.label)) \(escape(name)): \(number(value)) \(escape(unit))</title></rect>\n"
            }
            // Labels thin out so that at most about a dozen are drawn.
            let every = max(1, bars.count / 12)
            if i % every == 0 {
                body += "<text x=\"\(f(x + barWidth / 2))\" y=\"\(f(top + plotHeight + 16))\" font-size=\"10\" text-anchor=\"middle\">\(escape(bar.label))</text>\n"
            }
        }
        body += legend(series)
        return document(body)
    }

    /// A line through points in order (e.g. cumulative cost by day), its area shaded.
    public static func line(title: String, points: [(label: String, value: Double)], unit: String) -> String {
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let scale = niceCeiling(max(points.map(\.value).max() ?? 0, 1e-9))
        var body = axes(title: title, maximum: scale, unit: unit)
        let step = points.count > 1 ? plotWidth / Double(points.count - 1) : 0
        let coordinates = points.enumerated().map { (i, p) in
            (x: left + (points.count > 1 ? Double(i) * step : plotWidth / 2), y: top + plotHeight - p.value / scale * plotHeight)
        }
        if !coordinates.isEmpty {
            let path = coordinates.map { "\(f($0.x)),\(f($0.y))" }.joined(separator: " ")
            let base = top + plotHeight
            body += "<polygon points=\"\(f(coordinates[0].x)),\(f(base)) \(path) \(f(coordinates.last!.x)),\(f(base))\" fill=\"\(palette[0])\" fill-opacity=\"0.25\"/>\n"
            body += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(palette[0])\" stroke-width=\"2\"/>\n"
            let every = max(1, points.count / 12)
            for (i, c) in coordinates.enumerated() {
                body += "<circle cx=\"\(f(c.x))\" cy=\"\(f(c.y))\" r=\"3\" fill=\"\(palette[0])\"><title>\(escape(points[i].label)): \(number(points[i].value)) \(escape(unit))</title></circle>\n"
                if i % every == 0 {
                    body += "<text x=\"\(f(c.x))\" y=\"\(f(base + 16))\" font-size=\"10\" text-anchor=\"middle\">\(escape(points[i].label))</text>\n"
                }
            }
        }
        return document(body)
    }

    static func document(_ body: String) -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"sans-serif\">\n"
            + "<rect x=\"0\" y=\"0\" width=\"\(f(width))\" height=\"\(f(height))\" fill=\"#ffffff\"/>\n" + body + "</svg>\n"
    }

    static func axes(title: String, maximum: Double, unit: String) -> String {
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        var s = "<text x=\"\(f(left))\" y=\"22\" font-size=\"15\" font-weight=\"bold\">\(escape(title))</text>\n"
        for tick in 0...4 {
            let value = maximum * Double(tick) / 4
            let y = top + plotHeight - plotHeight * Double(tick) / 4
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y))\" stroke=\"#dddddd\"/>\n"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" font-size=\"10\" text-anchor=\"end\">\(escape(number(value)))</text>\n"
        }
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotHeight))\" stroke=\"#333333\"/>\n"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(top + plotHeight))\" stroke=\"#333333\"/>\n"
        s += "<text x=\"14\" y=\"\(f(top + plotHeight / 2))\" font-size=\"11\" transform=\"rotate(-90 14 \(f(top + plotHeight / 2)))\" text-anchor=\"middle\">\(escape(unit))</text>\n"
        return s
    }

    static func legend(_ series: [String]) -> String {
        var s = ""
        for (i, name) in series.enumerated() {
            let y = top + Double(i) * 18
            s += "<rect x=\"\(f(width - right + 16))\" y=\"\(f(y))\" width=\"12\" height=\"12\" fill=\"\(palette[i % palette.count])\"/>\n"
            s += "<text x=\"\(f(width - right + 34))\" y=\"\(f(y + 10))\" font-size=\"11\">\(escape(name))</text>\n"
        }
        return s
    }

    /// The smallest 1, 2 or 5 × 10ⁿ at or above `value`, so ticks fall on round numbers.
    static func niceCeiling(_ value: Double) -> Double {
        let exponent = floor(log10(value))
        let base = pow(10, exponent)
        for m in [1.0, 2.0, 5.0, 10.0] where m * base >= value { return m * base }
        return 10 * base
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    static func number(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e9 { return String(Int(v)) }
        var text = abs(v) < 1 ? String(format: "%.4f", v) : String(format: "%.2f", v)
        // 0.5000 reads better as 0.5 (a tick of a chart counting runs).
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }

    /// Text made safe for XML content and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // Control characters other than tab and newline are not allowed in XML 1.0.
                if c.value < 0x20 && c != "\t" && c != "\n" { out += " " } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }
}
