import Foundation
import MobyTestSupport
import Spool
import Testing

/// Kill real processes mid-stream and check InfluxDB ends with exactly what was published.
@Suite(.serialized, .timeLimit(.minutes(4))) struct FaultInjectionTests {
    @Test func serverKilledRepeatedly() async throws {
        try await FaultFixture.with { fixture in
            let total = 6_000
            async let published: Void = fixture.publish(total: total, rate: 1_000)
            for _ in 0..<3 {
                try await Task.sleep(for: .milliseconds(1_200))
                await fixture.server.process.stopOffThread(signal: SIGKILL)
                try await fixture.server.start()
            }
            try await published
            try await fixture.expectExactly(total)
        }
    }

    @Test func serverStoppedGracefullyMidStream() async throws {
        try await FaultFixture.with { fixture in
            let total = 4_000
            async let published: Void = fixture.publish(total: total, rate: 1_000)
            try await Task.sleep(for: .milliseconds(1_500))
            let started = ContinuousClock.now
            let status = await fixture.server.process.stopOffThread(signal: SIGTERM, timeout: 10)
            let took = ContinuousClock.now - started
            #expect(status == 0, "exit status after SIGTERM\n\(fixture.server.process.logTail())")
            #expect(took < .seconds(10), "graceful shutdown took \(took)")
            #expect(fixture.server.process.logTail().contains("MQTT client stopped"))
            try await fixture.server.start()
            try await published
            try await fixture.expectExactly(total)
        }
    }

    @Test func brokerRestartedMidStream() async throws {
        try await FaultFixture.with { fixture in
            let total = 5_000
            async let published: Void = fixture.publish(total: total, rate: 1_000)
            try await Task.sleep(for: .milliseconds(1_500))
            await fixture.broker.process.stopOffThread()
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
            await fixture.influx.process.stopOffThread(timeout: 2)
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

/// The edge agent's outbox: readings generated while the broker is away reach InfluxDB later.
@Suite(.serialized, .timeLimit(.minutes(4))) struct SensorOutboxTests {
    @Test func sensorStartedWhileBrokerIsDown() async throws {
        try await FaultFixture.with { fixture in
            await fixture.broker.process.stopOffThread()
            let outbox = fixture.directory.appendingPathComponent("outbox")
            let total = 3_000
            let sensor = try fixture.sensor(
                ["--devices", "10", "--rate", "1000", "--count", "\(total)", "--outbox", outbox.path],
                name: "outbox-test")
            try sensor.start()
            defer { sensor.stop() }
            try await Task.sleep(for: .seconds(5))
            let held = try FileManager.default.contentsOfDirectory(atPath: outbox.path).filter {
                $0.hasSuffix(".spool")
            }
            #expect(!held.isEmpty, "readings wait in the outbox while the broker is down")
            #expect(sensor.isRunning, "the agent keeps running without a broker")
            try await fixture.broker.start()
            try await fixture.expectFinished(sensor, within: .seconds(60))
            try await fixture.expectStored(total)
            // Delivered: nothing left to send (a drained outbox keeps its small last segment
            // until the next start, which deletes it).
            let reopened = try Spool(directory: outbox.path, maxBytes: 1 << 30)
            #expect(reopened.depth.records == 0, "a delivered outbox is empty")
            let left = try FileManager.default.contentsOfDirectory(atPath: outbox.path).filter {
                $0.hasSuffix(".spool")
            }
            #expect(left.isEmpty, "reopened with nothing to send, the outbox deletes its segment")
        }
    }

    @Test func sigtermKeepsUnacknowledgedReadingsForTheNextStart() async throws {
        try await FaultFixture.with { fixture in
            await fixture.broker.process.stopOffThread()
            let outbox = fixture.directory.appendingPathComponent("outbox-sigterm")
            let arguments = ["--devices", "5", "--rate", "500", "--outbox", outbox.path]
            let first = try fixture.sensor(arguments, name: "sigterm-test")
            try first.start()
            defer { first.stop() }
            try await Task.sleep(for: .seconds(3))
            let started = ContinuousClock.now
            let status = await first.stopOffThread(signal: SIGTERM, timeout: 15)
            #expect(status == 0, "moby-sensor exits cleanly on SIGTERM:\n\(first.logTail())")
            #expect(ContinuousClock.now - started < .seconds(10), "and promptly, with the broker away")
            let log = first.logTail(bytes: 2_000)
            let generated = try #require(
                log.firstMatch(of: /generated=(\d+)/).flatMap { Int($0.1) }, "the final count is logged:\n\(log)")
            #expect(generated > 500)
            try await fixture.broker.start()
            // The next start sends what the outbox kept, plus one new reading.
            let second = try fixture.sensor(arguments + ["--count", "1"], name: "sigterm-test")
            try second.start()
            defer { second.stop() }
            try await fixture.expectFinished(second, within: .seconds(60))
            try await fixture.expectStored(generated + 1)
        }
    }

    @Test func brokerDownForThirtySecondsWhileTheAgentRuns() async throws {
        try await FaultFixture.with { fixture in
            let outbox = fixture.directory.appendingPathComponent("outbox-30s")
            let total = 10_000
            let sensor = try fixture.sensor(
                ["--devices", "20", "--rate", "250", "--count", "\(total)", "--outbox", outbox.path],
                name: "outage-test")
            try sensor.start()
            defer { sensor.stop() }
            try await Task.sleep(for: .seconds(4))
            await fixture.broker.process.stopOffThread()
            try await Task.sleep(for: .seconds(30))
            #expect(sensor.isRunning, "the agent keeps generating while the broker is away")
            try await fixture.broker.start()
            try await fixture.expectFinished(sensor, within: .seconds(90))
            try await fixture.expectStored(total)
        }
    }

    @Test func readingsPipedIntoTheAgentAreAllStored() async throws {
        try await FaultFixture.with { fixture in
            let total = 2_000
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try TestExecutable.path("moby-sensor"))
            process.arguments = [
                "--mqtt-url", fixture.broker.url, "--stdin", "--device", "pi-9", "--client-id", "stdin-test",
                "--outbox", fixture.directory.appendingPathComponent("outbox-stdin").path,
            ]
            let input = Pipe()
            process.standardInput = input
            let log = fixture.directory.appendingPathComponent("moby-sensor-stdin.log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: log)
            try process.run()
            var lines = ""
            for index in 0..<total {
                // Every 500th line is broken: it must be refused, not sent or lost silently.
                if index % 500 == 250 { lines += "{broken\n" }
                lines += #"{"temperature":20.5,"cycle_count":\#(index),"timestamp":"\#(fixture.stamp(index))"}"# + "\n"
            }
            input.fileHandleForWriting.write(Data(lines.utf8))
            try input.fileHandleForWriting.close()
            let deadline = ContinuousClock.now + .seconds(60)
            while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            #expect(!process.isRunning, "the agent exits once standard input is done and everything is acknowledged")
            if process.isRunning { process.terminate() }
            try await fixture.expectExactly(total)
            let output = try String(contentsOf: log, encoding: .utf8)
            #expect(output.contains("acknowledged=\(total) "), "sent exactly once:\n\(output.suffix(2000))")
            #expect(output.contains("rejected=4"), "\(output.suffix(2000))")
        }
    }
}
