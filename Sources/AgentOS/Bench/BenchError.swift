/// Why a benchmark section could not set up or measure, in one line.
public struct BenchError: Error, CustomStringConvertible, Equatable {
    /// The reason, as the command prints it.
    public let description: String

    /// An error with this reason.
    public init(_ description: String) {
        self.description = description
    }
}
