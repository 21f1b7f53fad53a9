import Foundation

/// A blocking client for any server that speaks OpenAI's `POST /v1/chat/completions` (llama.cpp's
/// `llama-server`, LM Studio, vLLM, Ollama's compatible endpoint, a hosted API behind plain HTTP),
/// built on `HTTPClient` like `OllamaClient`: one request per run, one deadline, the cancel token.
///
/// A streamed answer (`"stream": true`, the default) is Server-Sent Events: `data: {chunk}` lines,
/// each carrying a piece of the answer in `choices[0].delta.content`, a last chunk with `usage`
/// (asked for with `stream_options.include_usage`) and `data: [DONE]`. The parser also reads a plain
/// JSON answer, so a server that ignores `stream` still works.
public enum OpenAIChatClient {
    /// The full chat-completions URL for an endpoint as users copy it: a base with `/v1` (what
    /// OpenAI clients call `base_url`), a bare server (`http://localhost:8080`) or the whole path.
    public static func completionsURL(endpoint: String) -> String {
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/chat/completions") { return base }
        if base.hasSuffix("/v1") { return base + "/chat/completions" }
        return base + "/v1/chat/completions"
    }

    /// The model-list URL next to the completions URL (`GET /v1/models`), which every server named
    /// above answers; `doctor` and routing use it to ask whether the server is up.
    public static func modelsURL(endpoint: String) -> String {
        let completions = completionsURL(endpoint: endpoint)
        return String(completions.dropLast("/chat/completions".count)) + "/models"
    }

    /// The request body: the prompt as one user message; with `stream`, the usage chunk asked for.
    public static func requestBody(model: String, prompt: String, stream: Bool) -> [UInt8] {
        var fields: [(String, JSON)] = [
            ("model", .string(model)),
            ("messages", .array([.object([("role", .string("user")), ("content", .string(prompt))])])),
            ("stream", .bool(stream)),
        ]
        if stream { fields.append(("stream_options", .object([("include_usage", .bool(true))]))) }
        return Array(JSON.object(fields).compact.utf8)
    }

    /// The headers a request carries: JSON both ways, and the key when the note names its variable.
    static func headers(apiKey: String?) -> [HTTPClient.Header] {
        var headers = [HTTPClient.Header("Content-Type", "application/json"), HTTPClient.Header("Accept", "application/json, text/event-stream")]
        if let apiKey, !apiKey.isEmpty { headers.append(HTTPClient.Header("Authorization", "Bearer " + apiKey)) }
        return headers
    }

    /// Sends one chat request and waits for the whole answer (the stream's end), the timeout, or the cancel token.
    public static func complete(endpoint: String, model: String, prompt: String, stream: Bool, apiKey: String?, timeout: Double?, cancel: CancelToken?) -> HTTPAgentCall.Response {
        let request = HTTPClient.Request(method: "POST", url: completionsURL(endpoint: endpoint), headers: headers(apiKey: apiKey),
                                         body: requestBody(model: model, prompt: prompt, stream: stream))
        do {
            let response = try HTTPClient.send(request, timeout: timeout ?? 3600, cancel: cancel)
            return .answered(status: response.status, body: response.body)
        } catch {
            return .failed(HTTPAgentCall.classify(error, server: .openAIChat, endpoint: endpoint))
        }
    }

    /// Whether a server answers at `endpoint` (`GET /v1/models`): `nil` when it does, else why not, one line.
    public static func probe(endpoint: String, apiKey: String?, timeout: Double) -> String? {
        let request = HTTPClient.Request(method: "GET", url: modelsURL(endpoint: endpoint), headers: headers(apiKey: apiKey))
        do {
            let response = try HTTPClient.send(request, timeout: timeout, maxBodyBytes: 4 << 20)
            switch response.status {
            case 200..<300: return nil
            case 401, 403: return "\(endpoint) refused the request (HTTP \(response.status)); set 'api_key_env' to the variable holding its key"
            default: return "\(endpoint) answered HTTP \(response.status) to GET /v1/models; is it an OpenAI-compatible server?"
            }
        } catch {
            return HTTPAgentCall.classify(error, server: .openAIChat, endpoint: endpoint).description
        }
    }
}

extension AgentOutputParser {
    /// An `/v1/chat/completions` answer: Server-Sent Events (`data: {chunk}` … `data: [DONE]`) when
    /// streamed, one JSON object when not. The answer is the `content` pieces in order; tokens come
    /// from `usage` (`prompt_tokens`, `completion_tokens`); `{"error": …}` — as the whole body or as
    /// a chunk — is a failure, and so is a stream that stops before a chunk says why it finished.
    public static func parseOpenAIChat(_ text: String) -> AgentOutcome {
        let trimmed = text.trimmingWhitespacesAndNewlines()
        if trimmed.hasPrefix("{"), let object = try? JSON.parse(trimmed), case .object = object {
            return openAIChatObject(object)
        }
        var outcome = AgentOutcome()
        var pieces: [String] = []
        var finished = false, done = false, sawChunk = false
        var errors: [String] = []
        for line in text.split(whereSeparator: \.isNewline) {
            // SSE: only `data:` fields carry chunks; comments (`:`), `event:`, `id:` and `retry:` do not.
            guard line.hasPrefix("data:") else { continue }
            let payload = line.dropFirst("data:".count).trimmingWhitespaces()
            if payload == "[DONE]" { done = true; continue }
            guard let chunk = try? JSON.parse(payload), case .object = chunk else { continue }
            sawChunk = true
            if let error = openAIError(chunk) { errors.append(error); continue }
            if let model = chunk["model"]?.stringValue, !model.isEmpty { outcome.model = model }
            if outcome.sessionID == nil { outcome.sessionID = chunk["id"]?.stringValue }
            for choice in chunk["choices"]?.arrayValue ?? [] {
                if let piece = choice["delta"]?["content"]?.stringValue { pieces.append(piece) }
                if let reason = choice["finish_reason"]?.stringValue, !reason.isEmpty { finished = true }
            }
            if let usage = chunk["usage"], usage != .null { readUsage(usage, into: &outcome) }
        }
        outcome.answer = pieces.joined()
        if !errors.isEmpty {
            outcome.isError = true
            outcome.errorMessage = oneLine(errors.joined(separator: "; "))
        } else if !sawChunk {
            outcome.isError = true
            outcome.errorMessage = "the server's answer is neither JSON nor an event stream" + excerpt(text)
        } else if !finished && !done {
            outcome.isError = true
            outcome.errorMessage = "the server's stream ended before the answer was finished (no finish_reason, no [DONE])"
        }
        return outcome
    }

    /// A non-streamed answer (or an error body): `choices[0].message.content` and `usage`.
    static func openAIChatObject(_ object: JSON) -> AgentOutcome {
        if let error = openAIError(object) {
            return AgentOutcome(isError: true, errorMessage: oneLine(error), model: object["model"]?.stringValue)
        }
        var outcome = AgentOutcome()
        outcome.model = object["model"]?.stringValue
        outcome.sessionID = object["id"]?.stringValue
        guard let choice = object["choices"]?.arrayValue?.first, let content = choice["message"]?["content"] else {
            outcome.isError = true
            outcome.errorMessage = "the server's answer has no choices[0].message"
            return outcome
        }
        outcome.answer = content.stringValue ?? ""
        if let usage = object["usage"], usage != .null { readUsage(usage, into: &outcome) }
        return outcome
    }

    /// `{"error": {"message": …}}` (OpenAI, vLLM, llama.cpp) or `{"error": "…"}` (Ollama), as one line.
    static func openAIError(_ object: JSON) -> String? {
        guard let error = object["error"], error != .null else { return nil }
        if let text = error.stringValue { return text }
        return error["message"]?.stringValue ?? error["type"]?.stringValue ?? "the server reported an error"
    }

    /// `usage.prompt_tokens` and `usage.completion_tokens` into the outcome's token counts.
    static func readUsage(_ usage: JSON, into outcome: inout AgentOutcome) {
        if let input = usage["prompt_tokens"]?.intValue { outcome.tokensIn = input }
        if let output = usage["completion_tokens"]?.intValue { outcome.tokensOut = output }
    }
}

extension AgentRunner {
    /// One `openai-chat` run: the chat request, its answer read, HTTP statuses and server errors
    /// turned into failures. Cost is 0 unless the note sets prices (a remote, premium endpoint),
    /// in which case `run` works it out from the tokens.
    static func runOpenAIChat(_ definition: AgentDefinition, prompt: String, model: String?, timeout: Double?, cancel: CancelToken?,
                              environment: [String: String], into result: inout AgentRunResult) {
        let source = definition.sourcePath ?? "agent \(definition.name)"
        guard let model else {
            result.failure = .invalidDefinition("\(source): openai-chat needs a model; set 'model' on the agent or the task")
            return
        }
        guard let endpoint = definition.endpoint else {
            result.failure = .invalidDefinition("\(source): openai-chat needs an 'endpoint'")
            return
        }
        var apiKey: String?
        if let variable = definition.apiKeyVariable {
            guard let value = environment[variable], !value.isEmpty else {
                result.failure = .invalidDefinition("\(source): 'api_key_env' names \(variable), which is not set in the watcher's environment")
                return
            }
            apiKey = value
        }
        switch OpenAIChatClient.complete(endpoint: endpoint, model: model, prompt: prompt, stream: definition.streams, apiKey: apiKey, timeout: timeout, cancel: cancel) {
        case .failed(let error):
            result.failure = HTTPAgentCall.failure(error)
        case .answered(let status, let body):
            result.outcome = AgentOutputParser.parseOpenAIChat(String(decoding: body, as: UTF8.self))
            if !definition.isPaid { result.outcome.costUSD = 0 }
            if !(200..<300).contains(status) {
                let why = result.outcome.isError ? result.outcome.errorMessage.map { ": " + $0 } ?? "" : ""
                result.failure = .toolError("\(definition.name): the server answered HTTP \(status)\(why)")
            } else if result.outcome.isError {
                result.failure = .toolError("\(definition.name): " + (result.outcome.errorMessage ?? "the server reported an error"))
            }
        }
    }
}
