import AgentOS
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where a command's output goes. Library code takes this as a parameter; only the executable picks
/// the real streams, so tests can capture everything a command prints.
public final class Console: Sendable {
    private let writeOut: @Sendable (String) -> Void
    private let writeErr: @Sendable (String) -> Void
    /// Whether stderr is a terminal (progress lines are only drawn then).
    public let isInteractive: Bool
    /// Whether colour may be used (a terminal and no `NO_COLOR`).
    public let useColor: Bool
    /// Whether a progress line is drawn; the lock also keeps lines from two threads whole.
    private let progressShown = Locked(false)

    public init(out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void, isInteractive: Bool = false, useColor: Bool = false) {
        writeOut = out
        writeErr = err
        self.isInteractive = isInteractive
        self.useColor = useColor
    }

    /// The process's real stdout and stderr.
    public static func standard(environment: [String: String]) -> Console {
        let tty = isatty(2) == 1
        let color = isatty(1) == 1 && (environment["NO_COLOR"] ?? "").isEmpty && environment["TERM"] != "dumb"
        return Console(
            out: { text in FileHandle.standardOutput.write(Data(text.utf8)) },
            err: { text in FileHandle.standardError.write(Data(text.utf8)) },
            isInteractive: tty,
            useColor: color
        )
    }

    /// A console that collects output in memory (for tests).
    public static func capturing() -> (Console, CapturedOutput) {
        let captured = CapturedOutput()
        let console = Console(out: { captured.appendOut($0) }, err: { captured.appendErr($0) })
        return (console, captured)
    }

    /// Prints a line to stdout.
    public func print(_ line: String = "") {
        progressShown.withLock { shown in
            clearProgress(&shown)
            writeOut(Console.inert(line) + "\n")
        }
    }

    /// Prints a line to stderr.
    public func error(_ line: String) {
        progressShown.withLock { shown in
            clearProgress(&shown)
            writeErr(Console.inert(line) + "\n")
        }
    }

    /// `text` with every control character a terminal would act on shown instead (`␛`, `^M`…): a
    /// note's text, a title or an agent's error printed by `search`, `status` or `note show` could
    /// otherwise set the person's clipboard (OSC 52), retitle or clear the terminal, or hide lines.
    /// Tabs and line breaks (CRLF too) stay, and so do the colour codes `color` writes (`ESC[<n>m`,
    /// n one of ours).
    static func inert(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { isControl($0) }) else { return text }
        var out = String.UnicodeScalarView()
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let scalar = scalars[i]
            if scalar == "\u{1B}", let end = ownColor(scalars, from: i) {
                out.append(contentsOf: scalars[i..<end])
                i = end
                continue
            }
            // A line break written CRLF stays as it is (a note saved on Windows, shown and written back).
            if scalar == "\r", i + 1 < scalars.count, scalars[i + 1] == "\n" {
                out.append(scalar)
                i += 1
                continue
            }
            if isControl(scalar) {
                out.append(contentsOf: (scalar == "\u{1B}" ? "␛" : "^" + String(UnicodeScalar(UInt8(truncatingIfNeeded: (scalar.value + 0x40) & 0x7F)))).unicodeScalars)
            } else {
                out.append(scalar)
            }
            i += 1
        }
        return String(out)
    }

    /// A C0 control other than tab and line feed, DEL, or a C1 control.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return (v < 0x20 && v != 0x09 && v != 0x0A) || v == 0x7F || (0x80...0x9F).contains(v)
    }

    /// The end of one of `color`'s own sequences starting at `start` (`ESC [ n m`), or `nil`.
    private static func ownColor(_ scalars: [Unicode.Scalar], from start: Int) -> Int? {
        guard start + 3 < scalars.count, scalars[start + 1] == "[" else { return nil }
        var j = start + 2
        var code = ""
        while j < scalars.count, j - start < 6, ("0"..."9").contains(scalars[j]) { code.unicodeScalars.append(scalars[j]); j += 1 }
        guard j < scalars.count, scalars[j] == "m", code == "0" || ColorCode(rawValue: code) != nil else { return nil }
        return j + 1
    }

    /// Redraws a one-line progress indicator on stderr, only on a terminal.
    public func progress(_ line: String) {
        guard isInteractive else { return }
        progressShown.withLock { shown in
            writeErr("\r\u{1B}[2K" + line)
            shown = true
        }
    }

    /// Removes the progress line, if one is drawn.
    public func clearProgress() {
        progressShown.withLock { clearProgress(&$0) }
    }

    private func clearProgress(_ shown: inout Bool) {
        if shown {
            writeErr("\r\u{1B}[2K")
            shown = false
        }
    }

    /// The same streams, what goes to stdout passed through `transform` first (`route` inside a cloud
    /// run names no private note).
    public func redacting(_ transform: @escaping @Sendable (String) -> String) -> Console {
        let out = writeOut
        return Console(out: { out(transform($0)) }, err: writeErr, isInteractive: isInteractive, useColor: useColor)
    }

    /// The same streams with colour off (`--no-color`).
    public func withoutColor() -> Console {
        Console(out: writeOut, err: writeErr, isInteractive: isInteractive, useColor: false)
    }

    /// Wraps text in an ANSI colour when colour is on.
    public func color(_ text: String, _ code: ColorCode) -> String {
        useColor ? "\u{1B}[\(code.rawValue)m\(text)\u{1B}[0m" : text
    }

    public enum ColorCode: String, Sendable {
        case red = "31", green = "32", yellow = "33", blue = "34", magenta = "35", cyan = "36", dim = "2", bold = "1"
    }
}

/// Output collected by `Console.capturing()`.
public final class CapturedOutput: Sendable {
    private let text = Locked((out: "", err: ""))
    func appendOut(_ s: String) { text.withLock { $0.out += s } }
    func appendErr(_ s: String) { text.withLock { $0.err += s } }
    /// Everything printed to stdout so far.
    public var stdout: String { text.withLock { $0.out } }
    /// Everything printed to stderr so far.
    public var stderr: String { text.withLock { $0.err } }
}
