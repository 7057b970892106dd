import Foundation
import MobyTestSupport
import Testing

/// Kill real processes mid-stream and check InfluxDB ends with exactly what was published.
@Suite(.serialized) struct FaultInjectionTests {
    @Test func serverKilledRepeatedly() async throws {
        try await FaultFixture.with { fixture in
            let total = 6_000
            async let published: Void = fixture.publish(total: total, rate: 1_000)
            for _ in 0..<3 {
                try await Task.sleep(for: .milliseconds(1_200))
                fixture.server.process.stop(signal: SIGKILL)
                try await fixture.server.start()
            }
            try await published
            try await fixture.expectExactly(total)
        }
    }

    @Test func brokerRestartedMidStream() async throws {
        try await FaultFixture.with { fixture in
            let total = 5_000
            async let published: Void = fixture.publish(total: total, rate: 1_000)
            try await Task.sleep(for: .milliseconds(1_500))
            fixture.broker.stop()
            try await Task.sleep(for: .seconds(3))
            try await fixture.broker.start()
            try await published
            try await fixture.expectExactly(total)
        }
    }

    @Test func influxDownForTensOfSeconds() async throws {
        try await FaultFixture.with { fixture in
            let total = 20_000
            async let published: Void = fixture.publish(total: total, rate: 1_000)
            try await Task.sleep(for: .seconds(2))
            fixture.influx.stop()
            try await Task.sleep(for: .seconds(15))
            let spooled = HTTPProbe.get(port: fixture.server.httpPort, path: "/health/ready")
            #expect(spooled?.status == 503, "readiness reports the outage")
            #expect(spooled?.body.contains("\"reachable\":false") == true)
            try await fixture.influx.start()
            try await published
            try await fixture.expectExactly(total)
            if let peak = fixture.serverPeakRSS() { print("moby-server peak RSS during the outage: \(peak) kB") }
        }
    }
}
