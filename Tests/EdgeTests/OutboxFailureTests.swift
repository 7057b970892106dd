import Foundation
import MobyTestSupport
import Testing

/// moby-sensor when its outbox fails under it: the agent must stop with the reason (so systemd
/// restarts it and the start-up check reports the outbox), never keep generating into an outbox
/// nobody publishes from.
@Suite struct OutboxFailureTests {
    /// Damages the payload of the second record of `segment` (magic, length, lines, CRC, then
    /// the payload; big-endian), so reading it fails its CRC while the records around it stay.
    func damageSecondRecord(of segment: String) throws -> Bool {
        let handle = try #require(FileHandle(forUpdatingAtPath: segment))
        defer { try? handle.close() }
        let bytes = [UInt8](try handle.readToEnd() ?? Data())
        guard bytes.count >= 16 else { return false }
        let firstLength = bytes[4..<8].reduce(0) { $0 << 8 | Int($1) }
        let second = 16 + firstLength
        guard bytes.count >= second + 16 else { return false }
        let secondLength = bytes[(second + 4)..<(second + 8)].reduce(0) { $0 << 8 | Int($1) }
        // The third record must be complete: the damage is in the middle, not a torn tail.
        guard secondLength > 8, bytes.count > second + 16 + secondLength + 16 else { return false }
        try handle.seek(toOffset: UInt64(second + 16 + secondLength / 2))
        try handle.write(contentsOf: Data([0x00, 0xFF, 0x00, 0xFF]))
        try handle.synchronize()
        return true
    }

    @Test func anOutboxThatFailsWhileDrainingStopsTheAgentWithTheReason() async throws {
        let folder = try TestPaths.scratch("outbox-failure")
        let outbox = folder.appendingPathComponent("outbox")
        // The broker is not up yet: readings wait in the outbox.
        let broker = try TestBroker()
        defer { broker.stop() }
        let sensor = ServiceProcess(
            name: "moby-sensor", executable: try TestExecutable.path("moby-sensor"),
            arguments: [
                "--mqtt-url", broker.url, "--devices", "2", "--rate", "200", "--outbox", outbox.path,
                "--client-id", "outbox-failure", "--quiet",
            ],
            logFile: folder.appendingPathComponent("moby-sensor.log"))
        try sensor.start()
        defer { sensor.stop() }
        var damaged = false
        try await eventually("three records in the outbox, the second damaged", timeout: .seconds(30)) {
            let segments = ((try? FileManager.default.contentsOfDirectory(atPath: outbox.path)) ?? [])
                .filter { $0.hasSuffix(".spool") }.sorted()
            guard let first = segments.first else { return false }
            damaged = try damageSecondRecord(of: outbox.appendingPathComponent(first).path)
            return damaged
        }
        try await broker.start()
        try await eventually("moby-sensor to stop", timeout: .seconds(30)) { !sensor.isRunning }
        let status = sensor.stop()
        let log = sensor.logTail(bytes: 20_000)
        #expect(status != 0, "exit status \(status)")
        #expect(log.contains("publishing from the outbox of link 0 failed"), "\(log.suffix(2_000))")
        #expect(log.contains("spool damaged") && log.contains("fails its check now"), "\(log.suffix(2_000))")
    }
}
