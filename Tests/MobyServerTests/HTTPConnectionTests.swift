import Foundation
import MobyTestSupport
import NIOCore
import Synchronization
import Testing

@testable import MobyServer

/// The HTTP server's connection rules against a live server over raw TCP (issue 11, finding 3):
/// idle and slow connections are closed, malformed requests are answered, connections beyond the
/// limit are refused, and graceful shutdown ends within its bound.
@Suite(.serialized) struct HTTPConnectionTests {
    struct ErrorBody: Decodable {
        var error: String
    }

    static let shortTimeouts: HTTPLimits = {
        var limits = HTTPLimits(
            idleTimeout: .seconds(1), requestTimeout: .milliseconds(1_500), maxConnections: 64,
            shutdownTimeout: .seconds(2))
        limits.answerLinger = .milliseconds(500)
        return limits
    }()

    /// The status and `error` text of the answer a closed connection got.
    func answer(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> (Int, String)? {
        guard let response = RawConnection.parse(text) else {
            Issue.record("no HTTP response in \(text.prefix(200).debugDescription)", sourceLocation: sourceLocation)
            return nil
        }
        #expect(response.headers.lowercased().contains("connection: close"), sourceLocation: sourceLocation)
        #expect(
            response.headers.lowercased().contains("content-type: application/json"), sourceLocation: sourceLocation)
        let body = try? JSONDecoder().decode(ErrorBody.self, from: Data(response.body.utf8))
        #expect(body != nil, "body: \(response.body)", sourceLocation: sourceLocation)
        return (response.status, body?.error ?? "")
    }

    @Test func idleAndSlowConnectionsAreClosedButWebSocketsAreNot() async throws {
        try await GuardedServer.with(limits: Self.shortTimeouts) { server in
            let start = ContinuousClock.now
            let empty = try await server.connect()
            let partial = try await server.connect()
            try await partial.send("GET /hea")
            let slowBody = try await server.connect()
            try await slowBody.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n12345")
            let keepAlive = try await server.connect()
            try await keepAlive.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await keepAlive.readResponse().status == 200)
            let webSocket = try await server.connect()
            try await webSocket.send(
                "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")

            #expect(try await empty.waitForClose(timeout: .seconds(5), "the idle connection to close") == "")
            let idleClosed = ContinuousClock.now - start
            #expect(idleClosed >= .milliseconds(900) && idleClosed < .seconds(3))

            let partialText = try await partial.waitForClose(timeout: .seconds(5), "the partial request to close")
            let partialClosed = ContinuousClock.now - start
            #expect(answer(partialText)?.0 == 408)
            #expect(partialClosed >= .milliseconds(1_400) && partialClosed < .seconds(4))
            #expect(answer(try await slowBody.waitForClose(timeout: .seconds(5), "the slow body to close"))?.0 == 408)
            try await keepAlive.waitForClose(timeout: .seconds(5), "the idle keep-alive connection to close")
            print("MEASURED idle connection closed after \(idleClosed), partial request line after \(partialClosed)")

            // Well past both timeouts the WebSocket is still open.
            try await Task.sleep(for: .seconds(3) - (ContinuousClock.now - start))
            #expect(webSocket.text.hasPrefix("HTTP/1.1 101"))
            #expect(webSocket.isOpen)
            await webSocket.close()
        }
    }

    @Test func aTLSHandshakeThatNeverFinishesIsClosedByTheIdleTimeout() async throws {
        // TLS wraps the guard, so the guard sees decrypted bytes only: a client that opens a
        // connection and sends nothing, or the start of a ClientHello and then nothing, has sent
        // no request byte, and the idle timeout ends it like any silent connection.
        let certificates = try TestCertificates.make()
        let files = HTTPSFiles(certificate: certificates.serverCertificate, key: certificates.serverKey)
        try await GuardedServer.with(limits: Self.shortTimeouts, https: files) { server in
            let start = ContinuousClock.now
            let silent = try await server.connect()
            let stalled = try await server.connect()
            // A TLS record header announcing a 512-byte handshake message, and 4 bytes of it.
            try await stalled.send(bytes: [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC])
            try await Task.sleep(for: .milliseconds(500))
            #expect(stalled.isOpen && silent.isOpen, "TLS waits for the rest of the handshake")
            _ = try await silent.waitForClose(timeout: .seconds(5), "the silent TLS connection to close")
            _ = try await stalled.waitForClose(timeout: .seconds(5), "the stalled handshake to close")
            let closed = ContinuousClock.now - start
            #expect(closed >= .milliseconds(900) && closed < .seconds(4), "closed after \(closed)")
        }
    }

    @Test func malformedRequestsAreAnsweredWithA4xx() async throws {
        try await GuardedServer.with(limits: Self.shortTimeouts) { server in
            func exchange(_ request: String) async throws -> (Int, String)? {
                let connection = try await server.connect()
                try await connection.send(request)
                return answer(try await connection.waitForClose(timeout: .seconds(5), "an answer to a bad request"))
            }
            let garbage = try await exchange("HELLO THERE\r\n\r\n")
            #expect(garbage?.0 == 400)
            let longURL = try await exchange(
                "GET /health?\(String(repeating: "a", count: 80_000)) HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(longURL?.0 == 414)
            #expect(longURL?.1.contains("8192") == true)
            let headers = (0..<80).map { "X-Filler-\($0): \(String(repeating: "b", count: 1_000))\r\n" }.joined()
            let largeHeaders = try await exchange("GET /health HTTP/1.1\r\nHost: t\r\n\(headers)\r\n")
            #expect(largeHeaders?.0 == 431)
            let negativeLength = try await exchange("POST /health HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n")
            #expect(negativeLength?.0 == 400)
            #expect(negativeLength?.1.contains("Content-Length") == true)

            // The same on a connection that already served a request (the parser error then comes
            // after the upgrade negotiation, on Hummingbird's own pipeline).
            let connection = try await server.connect()
            try await connection.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await connection.readResponse().status == 200)
            try await connection.send("POST /health HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n")
            #expect(answer(try await connection.waitForClose(timeout: .seconds(5)))?.0 == 400)
        }
    }

    @Test func connectionsBeyondTheLimitAreRefusedQuickly() async throws {
        var limits = Self.shortTimeouts
        limits.maxConnections = 4
        limits.idleTimeout = .seconds(30)
        try await GuardedServer.with(limits: limits) { server in
            var open: [RawConnection] = []
            for _ in 0..<limits.maxConnections {
                let connection = try await server.connect()
                try await connection.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try await connection.readResponse().status == 200)
                open.append(connection)
            }
            let start = ContinuousClock.now
            let refused = try await server.connect()
            try? await refused.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")  // may already be refused
            let refusal = answer(try await refused.waitForClose(timeout: .seconds(3), "the refusal"))
            let refusedAfter = ContinuousClock.now - start
            #expect(refusal?.0 == 503)
            #expect(refusedAfter < .seconds(2))  // at once, not at the 30 s idle timeout
            print("MEASURED connection beyond the limit refused (503, closed) after \(refusedAfter)")

            // Existing connections keep working, and a freed place is taken again.
            try await open[0].send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await open[0].readResponse().status == 200)
            await open[1].close()
            let status = try await waitOrFail(timeout: .seconds(3), "/health on a new connection") {
                while true {
                    let connection = try await server.connect()
                    // The place may not be free yet: then the server answers 503 and closes,
                    // perhaps before the request is sent.
                    try? await connection.send("GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                    let text = try await connection.waitForClose(timeout: .seconds(3))
                    if let status = RawConnection.parse(text)?.status, status != 503 { return status }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            #expect(status == 200)
            for connection in open { await connection.close() }
        }
    }

    @Test func oneAddressCannotTakeEveryPlace() async throws {
        var limits = Self.shortTimeouts
        limits.maxConnections = 10
        limits.maxConnectionsPerAddress = 2
        limits.idleTimeout = .seconds(30)
        try await GuardedServer.with(limits: limits) { server in
            var open: [RawConnection] = []
            for _ in 0..<2 {
                let connection = try await server.connect(from: "127.0.0.2")
                try await connection.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try await connection.readResponse().status == 200)
                open.append(connection)
            }
            let refused = try await server.connect(from: "127.0.0.2")
            try? await refused.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")  // may already be refused
            let refusal = answer(try await refused.waitForClose(timeout: .seconds(3), "the refusal"))
            #expect(refusal?.0 == 503)
            #expect(
                refusal?.1.contains("too many connections from your address (limit 2)") == true, "\(refusal?.1 ?? "")")
            // Another client is served as usual.
            let other = try await server.connect(from: "127.0.0.3")
            try await other.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await other.readResponse().status == 200)
            // A place given back is the address's again.
            await open[0].close()
            let status = try await waitOrFail(timeout: .seconds(3), "/health from the address again") {
                while true {
                    let connection = try await server.connect(from: "127.0.0.2")
                    try? await connection.send("GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                    let text = try await connection.waitForClose(timeout: .seconds(3))
                    if let status = RawConnection.parse(text)?.status, status != 503 { return status }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            #expect(status == 200)
            for connection in open + [other] { await connection.close() }
        }
    }

    @Test func shutdownWithIdleClientsEndsWithinTheBound() async throws {
        var limits = Self.shortTimeouts
        limits.idleTimeout = .seconds(60)
        limits.requestTimeout = .seconds(60)
        limits.maxConnections = 4_096
        let clients = 1_000
        try await GuardedServer.with(limits: limits) { server in
            var idle: [RawConnection] = []
            for _ in 0..<clients { idle.append(try await server.connect()) }
            let keepAlive = try await server.connect()
            try await keepAlive.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await keepAlive.readResponse().status == 200)
            let partial = try await server.connect()
            try await partial.send("GET /health HTTP/1.1\r\nHost: t\r\n")
            let webSocket = try await server.connect()
            try await webSocket.send(
                "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            let inFlight = try await server.connect()
            try await inFlight.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
            try await Task.sleep(for: .milliseconds(200))
            #expect(webSocket.text.hasPrefix("HTTP/1.1 101"))

            let elapsed = try await server.shutdown(timeout: .seconds(10))
            print("MEASURED shutdown with \(clients) idle clients, a partial request and a WebSocket: \(elapsed)")
            #expect(elapsed < limits.shutdownTimeout + .seconds(1))
            // The request in flight was finished, not cut off.
            #expect(RawConnection.parse(inFlight.text)?.status == 200)
            let stillOpen = try await waitOrFail(timeout: .seconds(2), "the idle clients to see the close") {
                [idle] in
                while idle.contains(where: \.isOpen) { try await Task.sleep(for: .milliseconds(20)) }
                return 0
            }
            #expect(stillOpen == 0)
        }
    }
}
