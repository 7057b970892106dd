import Foundation
import Hummingbird
import HummingbirdTesting
import MobyServer
import MobyTestSupport
import NIOCore
import Testing

/// A silent link to InfluxDB (packets dropped, no RST or FIN) is noticed within the configured
/// request timeout: readiness turns 503, writes go to the spool and are acknowledged from there,
/// and once the link heals the spool drains and nothing is missing (issue 11).
@Suite(.serialized) struct InfluxLinkTests {
    @Test func blackHoledInfluxDBTurnsNotReadySpoolsAndHealsWithoutLoss() async throws {
        try await PipelineFixture.with { fixture in
            let influxPort = try #require(URL(string: fixture.influx.url)?.port)
            try await TCPProxy.with(targetPort: influxPort) { proxy in
                let configuration = try fixture.configuration([
                    "moby.influx.url": "http://127.0.0.1:\(proxy.port)", "moby.influx.timeout.ms": "1000",
                ])
                let app = try await buildApplication(configuration: configuration, logger: testLogger())
                try await app.test(.live) { client in
                    try await waitUntilReady(client)
                    try await withMQTTClient(url: fixture.broker.url) { publisher in
                        func publish(_ range: Range<Int>) async throws {
                            for index in range {
                                try await publisher.publish(
                                    topic: "factory/sensor/data/influx-link",
                                    payload: ByteBuffer(string: IngestTests.reading(index, device: "influx-link")),
                                    qos: .atLeastOnce)
                            }
                        }
                        try await publish(0..<20)
                        #expect(try await fixture.waitForCount(20) == 20)

                        proxy.blackHole()
                        let cut = ContinuousClock.now
                        try await publish(20..<70)
                        // The readiness ping gives up after 2 s, a write after the 1 s timeout.
                        let bound = Duration.seconds(2) + .seconds(3)
                        var noticed = false
                        while ContinuousClock.now - cut < bound {
                            if !(try await isReady(client)) {
                                noticed = true
                                break
                            }
                            try await Task.sleep(for: .milliseconds(50))
                        }
                        #expect(noticed, "/health/ready stayed 200 for \(bound) of a dead InfluxDB link")
                        // The readings were spooled (and so acknowledged) while InfluxDB was silent.
                        var spooled = 0.0
                        let spoolDeadline = ContinuousClock.now + .seconds(10)
                        while spooled < 50, ContinuousClock.now < spoolDeadline {
                            spooled = metric("moby_readings_spooled_total", in: try await metricsText(client)) ?? 0
                            try await Task.sleep(for: .milliseconds(100))
                        }
                        // Every reading of the outage went to the spool.
                        #expect(spooled >= 50)
                        proxy.heal()
                    }
                    #expect(try await fixture.waitForCount(70) == 70)
                    try await waitUntilReady(client, timeout: .seconds(30))
                }
            }
        }
    }
}
