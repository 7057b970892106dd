import Logging
import MobyTestSupport
import NIOPosix
import Testing

@testable import MQTT

/// The reconnect loop's sleep: a delay that elapses before the sleeper is registered must still
/// wake it (a lost wake-up left moby-sensor waiting forever after a broker restart).
@Suite(.timeLimit(.minutes(1)))
struct ReconnectSleepTests {
    @Test func shortSleepsAlwaysWake() async throws {
        let session = Session(
            configuration: try MQTTConfiguration(url: "mqtt://127.0.0.1:1", clientID: "sleep-test"),
            logger: testLogger("sleep-test"))
        #expect(session.start())
        let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        let started = ContinuousClock.now
        for index in 0..<20_000 {
            await session.sleep(for: index.isMultiple(of: 2) ? .zero : .microseconds(1), on: eventLoop)
        }
        #expect(ContinuousClock.now - started < .seconds(50))
    }
}
