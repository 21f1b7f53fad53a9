/// A blocking client for Ollama's `POST /api/generate` (`"stream": false`), built on `HTTPClient`
/// (not URLSession: FoundationNetworking drags libcurl into every process).
public enum OllamaClient {
    /// The request body for a prompt.
    public static func requestBody(model: String, prompt: String) -> [UInt8] {
        Array(JSON.object([("model", .string(model)), ("prompt", .string(prompt)), ("stream", .bool(false))]).compact.utf8)
    }

    /// Sends one generate request and waits for the answer, the timeout, or the cancel token.
    public static func generate(endpoint: String, model: String, prompt: String, timeout: Double?, cancel: CancelToken?) -> HTTPAgentCall.Response {
        var trimmed = endpoint
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        let base = trimmed
        let limit = timeout ?? 3600
        do {
            let response = try HTTPClient.post(base + "/api/generate", body: requestBody(model: model, prompt: prompt),
                                               contentType: "application/json", timeout: limit, cancel: cancel)
            return .answered(status: response.status, body: response.body)
        } catch {
            return .failed(HTTPAgentCall.classify(error, server: .ollama, endpoint: base))
        }
    }
}
