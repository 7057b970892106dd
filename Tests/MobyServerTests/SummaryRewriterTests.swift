import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import MobyCore
import MobyTestSupport
import Synchronization
import Testing

@testable import MobyServer

/// The optional LLM rewrite against a stand-in chat-completions server (an LLM cannot run
/// here): the alert is raised with the template at once, the rewrite arrives as an update, and
/// a slow or failing endpoint leaves the template in place.
@Suite struct SummaryRewriterTests {
    let catalog: SensorCatalog

    init() throws {
        catalog = try SensorCatalog.load(path: TestPaths.catalog)
    }

    /// The request bodies the stand-in received.
    final class Requests: Sendable {
        let bodies = Mutex<[String]>([])
    }

    /// A chat-completions stand-in: `/ok` answers after `delay`, `/slow` after 5 s, `/broken` 500.
    func withStandIn(delay: Duration, _ body: @escaping @Sendable (Int, Requests) async throws -> Void) async throws {
        let requests = Requests()
        let router = Router()
        router.post("/ok/chat/completions") { request, _ -> Response in
            let text = String(buffer: try await request.body.collect(upTo: 1 << 20))
            requests.bodies.withLock { $0.append(text) }
            try await Task.sleep(for: delay)
            let answer = #"{"choices":[{"message":{"role":"assistant","content":" Press 1 runs hot: 80 °C. "}}]}"#
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: answer)))
        }
        router.post("/slow/chat/completions") { _, _ -> Response in
            try await Task.sleep(for: .seconds(5))
            return Response(status: .ok)
        }
        router.post("/broken/chat/completions") { _, _ -> Response in Response(status: .internalServerError) }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in try await body(try #require(client.port), requests) }
    }

    func center(
        _ url: String, timeout: Duration = .seconds(3), language: SummaryEndpoint.Language = .en,
        metrics: ServerMetrics
    ) throws -> (AlertCenter, SQLiteAlertStore) {
        let store = try SQLiteAlertStore(
            path: try TestPaths.scratch("llm").appendingPathComponent("alerts.sqlite").path)
        let rewriter = SummaryRewriter(
            endpoint: SummaryEndpoint(
                url: URL(string: url)!, model: "test-model", apiKey: "k", timeout: timeout, language: language),
            metrics: metrics,
            logger: testLogger())
        let center = AlertCenter(
            store: store, catalog: catalog, feed: AlertFeed(bufferLimit: 10), autoResolve: false,
            updateInterval: .seconds(60), logger: testLogger(), rewriter: rewriter)
        return (center, store)
    }

    var raised: AnomalySignal {
        let reading = Reading(deviceID: "press-1", timestamp: 1_000, values: [MetricValue(.temperature, 80)])
        return AnomalySignal(
            deviceID: "press-1", change: .raised(.critical), severity: .critical,
            assessment: AnomalyScorer(catalog: catalog).assess(reading), readingAt: 1_000)
    }

    func waitForAlert(_ store: SQLiteAlertStore, until condition: (Alert) -> Bool) async throws -> Alert? {
        try await eventuallyValue("the stored alert to change", timeout: .seconds(30)) {
            try await store.openAlerts().first.flatMap { condition($0) ? $0 : nil }
        }
    }

    @Test func theRewriteArrivesLaterAsAnUpdate() async throws {
        try await withStandIn(delay: .seconds(4)) { port, requests in
            let metrics = ServerMetrics()
            let (center, store) = try center("http://127.0.0.1:\(port)/ok/", timeout: .seconds(20), metrics: metrics)
            _ = try await center.start()
            let started = ContinuousClock.now
            await center.handle(raised)
            // Raised with the template while the stand-in still sleeps.
            #expect(ContinuousClock.now - started < .seconds(3))
            let first = try #require(try await store.openAlerts().first)
            #expect(first.narrative == nil && first.summary.hasPrefix("Critical anomaly on press-1"))
            let rewritten = try await waitForAlert(store) { $0.narrative != nil }
            #expect(rewritten?.narrative == "Press 1 runs hot: 80 °C.")
            #expect(rewritten?.summary == first.summary)
            let history = try await store.history(alertID: first.id)
            #expect(history.map(\.action) == ["raised", "summarized"] && history.last?.actor == "llm")
            let request = try #require(requests.bodies.withLock { $0.first })
            #expect(request.contains(#""model":"test-model""#) && request.contains("Critical anomaly on press-1"))
        }
    }

    /// Korean operators get a Korean narrative: the model is told so, in the system message.
    @Test func theNarrativeIsAskedForInTheOperatorsLanguage() async throws {
        try await withStandIn(delay: .zero) { port, requests in
            let (center, store) = try center(
                "http://127.0.0.1:\(port)/ok/", timeout: .seconds(20), language: .ko, metrics: ServerMetrics())
            _ = try await center.start()
            await center.handle(raised)
            _ = try await waitForAlert(store) { $0.narrative != nil }
            struct Chat: Decodable {
                struct Message: Decodable {
                    var role: String
                    var content: String
                }
                var messages: [Message]
            }
            let body = try #require(requests.bodies.withLock { $0.first })
            let chat = try JSONDecoder().decode(Chat.self, from: Data(body.utf8))
            let system = try #require(chat.messages.first { $0.role == "system" })
            #expect(system.content.contains("Write in Korean (한국어)"), "\(system.content)")
            #expect(!system.content.contains("Write in English"))
        }
    }

    @Test(arguments: ["slow", "broken", "missing"])
    func aSlowOrFailingEndpointLeavesTheTemplate(path: String) async throws {
        try await withStandIn(delay: .zero) { port, _ in
            let metrics = ServerMetrics()
            let (center, store) = try center(
                "http://127.0.0.1:\(port)/\(path)", timeout: .milliseconds(300), metrics: metrics)
            _ = try await center.start()
            await center.handle(raised)
            let deadline = ContinuousClock.now + .seconds(10)
            var failures = ""
            while ContinuousClock.now < deadline {
                failures = String(decoding: metrics.registry.emitToBuffer(), as: UTF8.self)
                if failures.contains("moby_llm_summary_failures_total 1") { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(failures.contains("moby_llm_summary_failures_total 1"))
            let alert = try #require(try await store.openAlerts().first)
            #expect(alert.narrative == nil && alert.summary.hasPrefix("Critical anomaly on press-1"))
        }
    }
}
