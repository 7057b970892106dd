import AsyncHTTPClient
import Foundation
import Logging
import MobyCore
import NIOCore
import Synchronization

/// Optional: asks an OpenAI-compatible chat-completions endpoint to rewrite an alert's template
/// summary for operators. The alert is raised with the template first; the rewrite arrives
/// later as an update, or never (timeout, error, too many in flight), so an LLM outage never
/// delays or blocks alerting.
final class SummaryRewriter: Sendable {
    static let instructions = """
        You write alert summaries for factory operators. Rewrite the alert below as at most three \
        short sentences in plain language: what is wrong on which machine, how far off the values are, \
        since when, and what to check first. Keep every number and unit exactly as given. No greeting.
        """

    let endpoint: SummaryEndpoint
    let maxInFlight: Int
    let http: HTTPClient
    let metrics: ServerMetrics
    let logger: Logger
    private let inFlight = Mutex(0)

    init(
        endpoint: SummaryEndpoint, maxInFlight: Int = 4, http: HTTPClient = .shared, metrics: ServerMetrics,
        logger: Logger
    ) {
        self.endpoint = endpoint
        self.maxInFlight = maxInFlight
        self.http = http
        self.metrics = metrics
        self.logger = logger
    }

    struct ChatRequest: Encodable {
        struct Message: Codable {
            var role: String
            var content: String
        }
        var model: String
        var messages: [Message]
        var temperature = 0.0
        var maxTokens = 200

        enum CodingKeys: String, CodingKey {
            case model, messages, temperature
            case maxTokens = "max_tokens"
        }
    }

    struct ChatResponse: Decodable {
        struct Choice: Decodable {
            var message: ChatRequest.Message
        }
        var choices: [Choice]
    }

    /// The rewritten summary, or nil (logged and counted) when the endpoint fails, is slow, or
    /// too many rewrites are already running.
    func rewrite(_ alert: Alert) async -> String? {
        let admitted = inFlight.withLock { count in
            guard count < maxInFlight else { return false }
            count += 1
            return true
        }
        guard admitted else {
            metrics.summariesSkipped.increment()
            return nil
        }
        defer { inFlight.withLock { $0 -= 1 } }
        do {
            let text = try await ask(alert)
            metrics.summariesRewritten.increment()
            return text
        } catch {
            metrics.summariesFailed.increment()
            logger.warning(
                "LLM summary failed; the template summary stands",
                metadata: ["alert": "\(alert.id)", "error": "\(error)"])
            return nil
        }
    }

    private func ask(_ alert: Alert) async throws -> String {
        let details = String(decoding: try JSONEncoder().encode(AlertDocument(alert)), as: UTF8.self)
        let chat = ChatRequest(
            model: endpoint.model,
            messages: [
                .init(role: "system", content: Self.instructions + " " + endpoint.language.instruction),
                .init(role: "user", content: "\(alert.summary)\n\nDetails (JSON): \(details)"),
            ])
        var request = HTTPClientRequest(url: endpoint.url.absoluteString.trimmingSuffix("/") + "/chat/completions")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let key = endpoint.apiKey { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(chat)))
        let deadline = NIODeadline.now() + .nanoseconds(endpoint.timeout.nanoseconds)
        let response = try await http.execute(request, deadline: deadline)
        let body = try await response.body.collect(upTo: 256 * 1024)
        guard response.status.code == 200 else {
            throw SummaryRewriteError("HTTP \(response.status.code): \(String(buffer: body).prefix(200))")
        }
        let decoded = try JSONDecoder().decode(ChatResponse.self, from: Data(body.readableBytesView))
        let text = decoded.choices.first?.message.content.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard !text.isEmpty else { throw SummaryRewriteError("empty answer") }
        return String(text.prefix(2000))
    }
}

/// Why the LLM's answer was not used.
struct SummaryRewriteError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) { self.description = description }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
