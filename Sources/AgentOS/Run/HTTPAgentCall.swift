import Foundation

/// The one shape of an agent reached over HTTP rather than run as a process (Ollama's API, an
/// OpenAI-compatible server): what came back, why nothing did, and how that becomes a run's failure.
public enum HTTPAgentCall {
    /// What came back: the HTTP status and body (an error status is an answer too), or why nothing came back.
    public enum Response: Sendable {
        case answered(status: Int, body: [UInt8])
        case failed(HTTPAgentError)
    }

    /// The error for an HTTP failure, worded for `server`; `endpoint` is named in it as written.
    static func classify(_ error: HTTPClient.HTTPError, server: HTTPAgentError.Server, endpoint: String) -> HTTPAgentError {
        let kind: HTTPAgentError.Kind
        switch error {
        case .invalidURL: kind = .invalidEndpoint(endpoint)
        case .connectionRefused: kind = .unreachable(endpoint: endpoint, reason: "connection refused")
        case .unknownHost: kind = .unreachable(endpoint: endpoint, reason: "unknown host")
        case .connectionFailed(_, _, let reason): kind = .unreachable(endpoint: endpoint, reason: reason)
        case .timedOut(let seconds): kind = .timedOut(seconds: seconds)
        case .cancelled: kind = .cancelled
        // `https://`: the client says it speaks plain http only (an openai-chat note is refused
        // for it when it loads; an Ollama endpoint gets the client's own words).
        case .unsupportedScheme, .malformedResponse, .bodyTooLarge: kind = .other(error.description)
        }
        return HTTPAgentError(server: server, kind: kind)
    }

    /// The run failure for a call that got no answer.
    static func failure(_ error: HTTPAgentError) -> AgentFailure {
        switch error.kind {
        case .cancelled: return .cancelled
        case .timedOut(let seconds): return .timedOut(seconds: seconds)
        case .unreachable: return .unreachable(error.description)
        default: return .toolError(error.description)
        }
    }
}

/// Why an HTTP agent call got no answer, one clear line worded for the kind of server.
public struct HTTPAgentError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The kind of server, for the wording.
    public enum Server: Equatable, Sendable {
        case ollama
        case openAIChat
    }

    /// What went wrong.
    public enum Kind: Equatable, Sendable {
        /// Nothing listens at the endpoint.
        case unreachable(endpoint: String, reason: String)
        /// No whole answer within the run's time limit.
        case timedOut(seconds: Double)
        /// The run was cancelled while waiting.
        case cancelled
        /// The endpoint is not an `http://` URL.
        case invalidEndpoint(String)
        /// Anything else (a malformed or oversized response).
        case other(String)
    }

    /// The server's kind.
    public var server: Server
    /// What went wrong.
    public var kind: Kind

    public var description: String {
        let (name, start): (String, String) = server == .ollama
            ? ("ollama", "is `ollama serve` running?")
            : ("the OpenAI-compatible server", "is it running (llama-server, LM Studio, vLLM, `ollama serve`)?")
        let short = server == .ollama ? "ollama" : "openai-chat"
        switch kind {
        case .unreachable(let endpoint, let reason): return "cannot reach \(name) at \(endpoint) (\(reason)); \(start)"
        case .timedOut(let seconds): return "\(name) did not answer within \(PropertyValue.format(double: seconds)) s"
        case .cancelled: return "cancelled"
        case .invalidEndpoint(let endpoint): return "\(short) endpoint '\(endpoint)' is not an http:// URL"
        case .other(let message): return "\(short) request failed: \(message)"
        }
    }
}
