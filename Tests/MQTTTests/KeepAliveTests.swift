import Testing

@testable import MQTT

/// The keep-alive timing as a plain value: when PINGREQ goes out and when a silent link is given up.
@Suite struct KeepAliveTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func at(_ milliseconds: Int64) -> NIODeadline { start + .milliseconds(milliseconds) }

    func keepAlive() -> KeepAlive {
        KeepAlive(interval: .seconds(10), pingTimeout: .seconds(5), now: start)
    }

    @Test func pingsWhenNothingWasSentForTheInterval() {
        var state = keepAlive()
        // The broker keeps talking; we stay silent.
        for second in 1...9 { state.received(at: at(Int64(second) * 1000)) }
        #expect(state.check(at: at(9_999)) == .wait)
        #expect(state.nextCheck == at(10_000))
        #expect(state.check(at: at(10_000)) == .ping)
        #expect(state.pingSentAt == at(10_000))
    }

    @Test func pingsWhenNothingWasReceivedForTheIntervalEvenWhileSending() {
        // A black-holed link takes our writes without complaint: sending proves nothing.
        var state = keepAlive()
        for second in 1...10 { state.sent(at: at(Int64(second) * 1000)) }
        #expect(state.check(at: at(9_999)) == .wait)
        #expect(state.check(at: at(10_000)) == .ping)
    }

    @Test func anUnansweredPingTimesOutAfterThePingTimeout() {
        var state = keepAlive()
        #expect(state.check(at: at(10_000)) == .ping)
        // Writes after the PINGREQ do not help; only something from the broker does.
        state.sent(at: at(11_000))
        #expect(state.nextCheck == at(15_000))
        #expect(state.check(at: at(14_999)) == .wait)
        #expect(state.check(at: at(15_000)) == .timeOut)
    }

    @Test func anyPacketFromTheBrokerAnswersThePing() {
        var state = keepAlive()
        #expect(state.check(at: at(10_000)) == .ping)
        state.received(at: at(10_050))
        #expect(state.pingSentAt == nil)
        #expect(state.check(at: at(15_000)) == .wait)
        // The next PINGREQ comes an interval after the last packet sent (the PINGREQ itself).
        #expect(state.nextCheck == at(20_000))
        #expect(state.check(at: at(20_000)) == .ping)
    }

    @Test func aSilentLinkIsDetectedWithinIntervalPlusPingTimeout() {
        // Traffic both ways until the link dies at 3 s; checks every 100 ms as a timer would.
        var state = keepAlive()
        for tenth in 1...30 {
            state.sent(at: at(Int64(tenth) * 100))
            state.received(at: at(Int64(tenth) * 100))
        }
        var time: Int64 = 3_000
        var detected: Int64?
        while time <= 60_000 {
            // We keep writing (acknowledgements) into the dead link.
            state.sent(at: at(time))
            if state.check(at: at(time)) == .timeOut {
                detected = time
                break
            }
            time += 100
        }
        // Last byte received at 3 s, PINGREQ at 13 s, given up at 18 s.
        let expected: Int64 = 3_000 + 10_000 + 5_000
        #expect(detected == expected)
    }

    @Test func aZeroPingTimeoutFallsBackToTheInterval() {
        let state = KeepAlive(interval: .seconds(2), pingTimeout: .zero, now: start)
        #expect(state.pingTimeout == .seconds(2))
    }
}
