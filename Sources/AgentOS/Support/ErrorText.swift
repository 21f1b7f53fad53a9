import Foundation

/// Errors as text for a single line of a log, a report or stderr.
public enum ErrorText {
    /// The error's description with its line breaks turned into spaces.
    public static func oneLine(_ error: any Error) -> String {
        String(describing: error).replacingOccurrences(of: "\n", with: " ")
    }
}
