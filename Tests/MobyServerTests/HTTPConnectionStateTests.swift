import NIOCore
import NIOHTTP1
import Testing

@testable import MobyServer

/// The rules of `HTTPConnectionState` without a socket: which timeout applies when, what is
/// answered and what is only closed.
@Suite struct HTTPConnectionStateTests {
    static let limits = HTTPLimits(
        idleTimeout: .seconds(60), requestTimeout: .seconds(30), maxConnections: 10, maxRequestLineBytes: 32,
        maxHeaderBytes: 1_024, shutdownTimeout: .seconds(10))

    func at(_ seconds: Int64) -> NIODeadline { .uptimeNanoseconds(1_000_000_000_000 + UInt64(seconds) * 1_000_000_000) }

    func bytes(_ text: String) -> ByteBufferView { ByteBuffer(string: text).readableBytesView }

    @Test func anIdleConnectionClosesAfterTheIdleTimeout() {
        var state = HTTPConnectionState(limits: Self.limits, now: at(0))
        #expect(state.nextDeadline == at(60))
        #expect(state.timerFired(now: at(59)) == .none)
        #expect(state.timerFired(now: at(60)) == .close)
    }

    @Test func aRequestThatDoesNotArriveInTimeIsAnswered408() {
        var state = HTTPConnectionState(limits: Self.limits, now: at(0))
        #expect(state.bytesReceived(bytes("GET /hea"), now: at(50)) == .forward)
        // The request-read deadline (50 + 30) replaces the idle one (60).
        #expect(state.nextDeadline == at(80))
        #expect(state.timerFired(now: at(60)) == .none)
        #expect(state.timerFired(now: at(80)) == .answer(.requestTimeout(.seconds(30))))
        #expect(state.nextDeadline == at(82))  // lingers for the client to read the answer
        #expect(state.inputClosed() == .close)
    }

    @Test func aRequestBeingProcessedHasNoTimeoutAndIdlenessStartsAfterItsResponse() {
        var state = HTTPConnectionState(limits: Self.limits, now: at(0))
        #expect(state.bytesReceived(bytes("GET /health HTTP/1.1\r\n\r\n"), now: at(1)) == .forward)
        state.requestHeadReceived(now: at(1))
        state.requestEndReceived()
        #expect(state.nextDeadline == nil)
        state.responseHeadSent()
        #expect(state.responseEndSent(now: at(100)) == .none)
        #expect(state.nextDeadline == at(160))
    }

    @Test func aLongRequestLineIsAnswered414() {
        var state = HTTPConnectionState(limits: Self.limits, now: at(0))
        #expect(state.bytesReceived(bytes("\r\nGET /0123456"), now: at(1)) == .forward)
        #expect(state.bytesReceived(bytes("789"), now: at(1)) == .forward)
        #expect(
            state.bytesReceived(bytes("abcdefghijklmnop HTTP/1.1\r\n"), now: at(1))
                == .stop(.answer(.requestLineTooLong(limit: 32))))
        #expect(state.bytesReceived(bytes("more"), now: at(1)) == .discard)
    }

    @Test func headersAreNotCountedAsTheRequestLine() {
        var state = HTTPConnectionState(limits: Self.limits, now: at(0))
        #expect(
            state.bytesReceived(bytes("GET / HTTP/1.1\r\nX-Long: \(String(repeating: "x", count: 100))"), now: at(1))
                == .forward)
    }

    @Test func parserErrorsAreAnsweredOnlyWhenNoEarlierResponseIsOwed() {
        var state = HTTPConnectionState(limits: Self.limits, now: at(0))
        _ = state.bytesReceived(bytes("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), now: at(1))
        #expect(
            state.malformed(.invalidContentLength, now: at(1))
                == .answer(ConnectionAnswer(status: .badRequest, message: "invalid Content-Length")))

        var pipelined = HTTPConnectionState(limits: Self.limits, now: at(0))
        _ = pipelined.bytesReceived(bytes("GET /slow HTTP/1.1\r\n\r\nHELLO"), now: at(1))
        pipelined.requestHeadReceived(now: at(1))
        pipelined.requestEndReceived()
        #expect(pipelined.malformed(.invalidMethod, now: at(1)) == .close)
    }

    @Test func aPipelinedRequestThatStopsHalfwayIsTimedToo() {
        var state = HTTPConnectionState(limits: Self.limits, now: at(0))
        // One read holds a whole request and the head of the next, whose body never comes.
        _ = state.bytesReceived(
            bytes("GET /health HTTP/1.1\r\n\r\nPOST /publish HTTP/1.1\r\nContent-Length: 65536\r\n\r\n"), now: at(1))
        state.requestHeadReceived(now: at(1))
        state.requestEndReceived()
        state.requestHeadReceived(now: at(2))
        #expect(state.nextDeadline == at(32))
        #expect(state.timerFired(now: at(32)) != .none)
    }

    @Test func parserErrorsMapToStatuses() {
        let limits = Self.limits
        #expect(ConnectionAnswer.malformed(.headerOverflow, limits: limits).status == .requestHeaderFieldsTooLarge)
        #expect(ConnectionAnswer.malformed(.invalidContentLength, limits: limits).status == .badRequest)
        #expect(ConnectionAnswer.malformed(.invalidMethod, limits: limits).status == .badRequest)
        let encoded = String(buffer: ConnectionAnswer.tooManyConnections(limit: 3).encoded())
        #expect(encoded.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(encoded.hasSuffix("\r\n\r\n{\"error\":\"too many connections (limit 3); retry later\"}"))
    }

    @Test func shutdownClosesIdleConnectionsAtOnceAndBusyOnesAfterTheirResponseOrTheBound() {
        var idle = HTTPConnectionState(limits: Self.limits, now: at(0))
        #expect(idle.shutdownRequested(now: at(5)) == .close)

        var busy = HTTPConnectionState(limits: Self.limits, now: at(0))
        _ = busy.bytesReceived(bytes("GET /slow HTTP/1.1\r\n\r\n"), now: at(1))
        busy.requestHeadReceived(now: at(1))
        busy.requestEndReceived()
        #expect(busy.shutdownRequested(now: at(5)) == .none)
        #expect(busy.nextDeadline == at(15))
        busy.responseHeadSent()
        #expect(busy.responseEndSent(now: at(6)) == .finish)

        var stuck = HTTPConnectionState(limits: Self.limits, now: at(0))
        _ = stuck.bytesReceived(bytes("GET /slow HTTP/1.1\r\n\r\n"), now: at(1))
        stuck.requestHeadReceived(now: at(1))
        stuck.requestEndReceived()
        _ = stuck.shutdownRequested(now: at(5))
        #expect(stuck.timerFired(now: at(15)) == .close)
    }

    @Test func anUpgradedConnectionHasNoHTTPTimeoutsOnlyTheShutdownBound() {
        var state = HTTPConnectionState(limits: Self.limits, now: at(0))
        _ = state.bytesReceived(bytes("GET /ws HTTP/1.1\r\n\r\n"), now: at(1))
        state.upgraded()
        #expect(state.nextDeadline == nil)
        #expect(state.timerFired(now: at(10_000)) == .none)
        #expect(state.bytesReceived(bytes("\u{81}\u{05}hello"), now: at(10_000)) == .forward)
        #expect(state.shutdownRequested(now: at(10_000)) == .none)
        #expect(state.timerFired(now: at(10_010)) == .close)
    }

    @Test func theFileDescriptorBudgetKeepsConnectionsUnderTheLimit() {
        let reserve = FileDescriptorBudget.reserve
        #expect(FileDescriptorBudget(soft: 1_024, hard: 1_048_576).softLimitWanted(for: 4_096) == 4_096 + reserve)
        #expect(FileDescriptorBudget(soft: 1_024, hard: 2_048).softLimitWanted(for: 4_096) == 2_048)
        #expect(FileDescriptorBudget(soft: 20_000, hard: 20_000).softLimitWanted(for: 4_096) == nil)
        #expect(FileDescriptorBudget(soft: 2_048, hard: 2_048).connectionsThatFit(4_096) == 2_048 - reserve)
        #expect(FileDescriptorBudget(soft: 20_000, hard: 20_000).connectionsThatFit(4_096) == 4_096)
    }
}
