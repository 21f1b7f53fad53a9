import Foundation

/// What the browser saw of one page: what a person checking it would want.
public struct PageReport: Sendable {
    /// The address asked for.
    public var url: String
    /// Where the page ended up (after redirects).
    public var finalURL: String?
    /// The HTTP status of the main document (`nil` for `file:` pages or when none arrived).
    public var status: Int?
    /// `document.title`.
    public var title: String
    /// `document.body.innerText`, cut to `PageCapture.textLimit` characters.
    public var text: String
    /// `console.error` calls, uncaught exceptions and the browser's own error log lines (failed loads), in order.
    public var consoleErrors: [String]
    /// The full-page screenshot (PNG), when it could be taken.
    public var screenshot: [UInt8]?
    /// The page's size in CSS pixels as captured.
    public var width: Int
    /// The captured height (the whole page, up to `PageCapture.maxHeight`).
    public var height: Int
    /// Why the page could not be loaded, when it could not (`net::ERR_NAME_NOT_RESOLVED`, a timeout).
    public var loadError: String?
}

/// Loads one page in a fresh tab of a running `Chromium` over `DevTools` and reads it: the main
/// document's HTTP status (`Network.responseReceived`), console errors (`Runtime.consoleAPICalled`
/// of type error/assert, `Runtime.exceptionThrown`, `Log.entryAdded` at level error), title and text
/// (`Runtime.evaluate`), and a full-page PNG (`Page.getLayoutMetrics` → `Page.captureScreenshot` with
/// `captureBeyondViewport`). The page is only loaded: nothing is clicked, typed or submitted.
public enum PageCapture {
    /// Characters of page text kept.
    public static let textLimit = 20_000
    /// The tallest screenshot taken, in CSS pixels (a longer page is cut there and says so).
    public static let maxHeight = 12_000

    /// Loads `url` and reports what it saw; the deadline bounds the whole capture.
    public static func capture(_ url: String, devtools: DevTools, deadline: Double) -> PageReport {
        var report = PageReport(url: url, finalURL: nil, status: nil, title: "", text: "", consoleErrors: [], screenshot: nil, width: 0, height: 0, loadError: nil)
        var targetID: String?
        do {
            let target = try devtools.call("Target.createTarget", [("url", .string("about:blank"))], deadline: deadline)
            targetID = target["targetId"]?.stringValue
            guard let targetID else { throw DevTools.Failure(description: "the browser opened no tab") }
            let attached = try devtools.call("Target.attachToTarget", [("targetId", .string(targetID)), ("flatten", .bool(true))], deadline: deadline)
            guard let session = attached["sessionId"]?.stringValue else { throw DevTools.Failure(description: "the browser gave no session for the tab") }
            for domain in ["Page.enable", "Runtime.enable", "Network.enable", "Log.enable"] {
                try devtools.call(domain, session: session, deadline: deadline)
            }
            try devtools.call("Page.setLifecycleEventsEnabled", [("enabled", .bool(true))], session: session, deadline: deadline)
            let navigated = try devtools.call("Page.navigate", [("url", .string(url))], session: session, deadline: deadline)
            let frameID = navigated["frameId"]?.stringValue
            if let error = navigated["errorText"]?.stringValue, !error.isEmpty {
                report.loadError = error
            } else {
                let loaded = try devtools.wait(deadline: deadline) { $0.sessionID == session && $0.method == "Page.loadEventFired" }
                if !loaded { report.loadError = "the page did not finish loading in time" }
                // Scripts that run right after load (and their console errors) get a moment, up to
                // the page's network going idle.
                _ = try devtools.wait(deadline: min(deadline, Descriptor.monotonicSeconds() + 1.5)) {
                    $0.sessionID == session && $0.method == "Page.lifecycleEvent" && $0.params["name"]?.stringValue == "networkIdle"
                }
            }
            if report.loadError == nil || report.loadError?.hasPrefix("the page did not") == true {
                report.title = try evaluate("document.title", devtools: devtools, session: session, deadline: deadline)
                report.text = String(try evaluate("document.body ? document.body.innerText : ''", devtools: devtools, session: session, deadline: deadline).prefix(textLimit))
                let metrics = try devtools.call("Page.getLayoutMetrics", session: session, deadline: deadline)
                let size = metrics["cssContentSize"] ?? metrics["contentSize"]
                report.width = max(1, Int((size?["width"]?.doubleValue ?? 1280).rounded(.up)))
                report.height = max(1, min(maxHeight, Int((size?["height"]?.doubleValue ?? 800).rounded(.up))))
                let shot = try devtools.call("Page.captureScreenshot", [
                    ("format", .string("png")), ("captureBeyondViewport", .bool(true)),
                    ("clip", .object([("x", .int(0)), ("y", .int(0)), ("width", .int(report.width)), ("height", .int(report.height)), ("scale", .int(1))])),
                ], session: session, deadline: deadline)
                if let data = shot["data"]?.stringValue, let bytes = Data(base64Encoded: data) { report.screenshot = Array(bytes) }
            }
            read(devtools.takeEvents().filter { $0.sessionID == session }, frameID: frameID, into: &report)
        } catch {
            report.loadError = report.loadError ?? String(describing: error)
            read(devtools.takeEvents(), frameID: nil, into: &report)
        }
        if let targetID {
            _ = try? devtools.call("Target.closeTarget", [("targetId", .string(targetID))], deadline: min(deadline + 2, Descriptor.monotonicSeconds() + 2))
        }
        return report
    }

    private static func evaluate(_ expression: String, devtools: DevTools, session: String, deadline: Double) throws(DevTools.Failure) -> String {
        let result = try devtools.call("Runtime.evaluate", [("expression", .string(expression)), ("returnByValue", .bool(true))], session: session, deadline: deadline)
        return result["result"]?["value"]?.stringValue ?? ""
    }

    /// Status, final address and errors from the page's events.
    static func read(_ events: [DevTools.Event], frameID: String?, into report: inout PageReport) {
        for event in events {
            let p = event.params
            switch event.method {
            case "Network.responseReceived":
                // The main document's response: the last one wins (a redirect's target).
                guard p["type"]?.stringValue == "Document", frameID == nil || p["frameId"]?.stringValue == frameID else { continue }
                report.status = p["response"]?["status"]?.intValue
                report.finalURL = p["response"]?["url"]?.stringValue
            case "Runtime.consoleAPICalled":
                guard let kind = p["type"]?.stringValue, kind == "error" || kind == "assert" else { continue }
                let words = (p["args"]?.arrayValue ?? []).map { arg in
                    arg["value"].map { $0.stringValue ?? $0.compact } ?? arg["description"]?.stringValue ?? arg["type"]?.stringValue ?? ""
                }
                report.consoleErrors.append("console.\(kind): " + words.joined(separator: " "))
            case "Runtime.exceptionThrown":
                let details = p["exceptionDetails"]
                let text = details?["exception"]?["description"]?.stringValue ?? details?["text"]?.stringValue ?? "exception"
                report.consoleErrors.append("uncaught: " + (text.split(whereSeparator: \.isNewline).first.map(String.init) ?? text))
            case "Log.entryAdded":
                guard p["entry"]?["level"]?.stringValue == "error" else { continue }
                let entry = p["entry"]
                let text = entry?["text"]?.stringValue ?? ""
                let source = entry?["url"]?.stringValue.map { " (\($0))" } ?? ""
                report.consoleErrors.append("\(entry?["source"]?.stringValue ?? "log"): \(text)\(source)")
            default:
                continue
            }
        }
    }
}
