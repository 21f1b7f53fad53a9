/// A blocking client for Ollama's `POST /api/generate` (`"stream": false`), built on `HTTPClient`
/// (not URLSession: FoundationNetworking drags libcurl into every process).
public enum OllamaClient {
    /// What came back: the HTTP status and body, or why nothing came back.
    public enum Response: Sendable {
        case answered(status: Int, body: [UInt8])
        case failed(OllamaError)
    }

    /// Why no answer arrived, one clear line each.
    public enum OllamaError: Error, Equatable, Sendable, CustomStringConvertible {
        /// Nothing listens at the endpoint.
        case unreachable(endpoint: String, reason: String)
        case timedOut(seconds: Double)
        case cancelled
        case invalidEndpoint(String)
        case other(String)

        public var description: String {
            switch self {
            case .unreachable(let endpoint, let reason):
                return "cannot reach ollama at \(endpoint) (\(reason)); is `ollama serve` running?"
            case .timedOut(let seconds): return "ollama did not answer within \(PropertyValue.format(double: seconds)) s"
            case .cancelled: return "cancelled"
            case .invalidEndpoint(let e): return "ollama endpoint '\(e)' is not a URL"
            case .other(let message): return "ollama request failed: \(message)"
            }
        }
    }

    /// The request body for a prompt.
    public static func requestBody(model: String, prompt: String) -> [UInt8] {
        Array(JSON.object([("model", .string(model)), ("prompt", .string(prompt)), ("stream", .bool(false))]).compact.utf8)
    }

    /// Sends one generate request and waits for the answer, the timeout, or the cancel token.
    public static func generate(endpoint: String, model: String, prompt: String, timeout: Double?, cancel: CancelToken?) -> Response {
        var trimmed = endpoint
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        let base = trimmed
        let limit = timeout ?? 3600
        do {
            let response = try HTTPClient.post(base + "/api/generate", body: requestBody(model: model, prompt: prompt),
                                               contentType: "application/json", timeout: limit, cancel: cancel)
            return .answered(status: response.status, body: response.body)
        } catch {
            return .failed(classify(error, endpoint: base, original: endpoint))
        }
    }

    /// The Ollama-worded error for an HTTP failure.
    static func classify(_ error: HTTPClient.HTTPError, endpoint: String, original: String) -> OllamaError {
        switch error {
        case .invalidURL: return .invalidEndpoint(original)
        case .connectionRefused: return .unreachable(endpoint: endpoint, reason: "connection refused")
        case .unknownHost: return .unreachable(endpoint: endpoint, reason: "unknown host")
        case .connectionFailed(_, _, let reason): return .unreachable(endpoint: endpoint, reason: reason)
        case .timedOut(let seconds): return .timedOut(seconds: seconds)
        case .cancelled: return .cancelled
        case .unsupportedScheme, .malformedResponse, .bodyTooLarge: return .other(error.description)
        }
    }
}
