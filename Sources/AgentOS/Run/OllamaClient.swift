import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A blocking client for Ollama's `POST /api/generate` (`"stream": false`), built on URLSession.
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
        guard let url = URL(string: base + "/api/generate"), url.host != nil else { return .failed(.invalidEndpoint(endpoint)) }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(requestBody(model: model, prompt: prompt))
        let limit = timeout ?? 3600
        request.timeoutInterval = limit

        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = limit
        configuration.timeoutIntervalForResource = limit
        // Local model servers must not go through a proxy from the environment.
        configuration.connectionProxyDictionary = [:]
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }

        let box = ResultBox()
        let semaphore = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: request) { data, response, error in
            if let error {
                box.set(.failed(classify(error, endpoint: base, timeout: limit)))
            } else {
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                box.set(.answered(status: status, body: [UInt8](data ?? Data())))
            }
            semaphore.signal()
        }
        task.resume()
        let started = Descriptor.monotonicSeconds()
        // Wait in short slices so that a cancel is noticed; the session's own timeout is the backstop.
        while semaphore.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
            if cancel?.isCancelled == true {
                task.cancel()
                _ = semaphore.wait(timeout: .now() + .seconds(2))
                return .failed(.cancelled)
            }
            if Descriptor.monotonicSeconds() - started > limit + 1 {
                task.cancel()
                return .failed(.timedOut(seconds: limit))
            }
        }
        return box.get() ?? .failed(.other("no answer"))
    }

    static func classify(_ error: Error, endpoint: String, timeout: Double) -> OllamaError {
        if let urlError = error as? URLError {
            switch urlError.code {
            case .cannotConnectToHost: return .unreachable(endpoint: endpoint, reason: "connection refused")
            case .cannotFindHost, .dnsLookupFailed: return .unreachable(endpoint: endpoint, reason: "unknown host")
            case .networkConnectionLost, .notConnectedToInternet: return .unreachable(endpoint: endpoint, reason: "connection lost")
            case .timedOut: return .timedOut(seconds: timeout)
            case .cancelled: return .cancelled
            default: return .other(urlError.localizedDescription)
            }
        }
        return .other(String(describing: error))
    }

    private final class ResultBox: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Response?
        func set(_ v: Response) { lock.lock(); value = v; lock.unlock() }
        func get() -> Response? { lock.lock(); defer { lock.unlock() }; return value }
    }
}
