import Foundation
import MobyTestSupport
import Testing

@testable import Edge

/// moby-sensor's command line, run as the built binary: settings that would lose readings or
/// never finish are refused before anything starts, and a `--count` run ends.
@Suite struct SensorCommandTests {
    /// Runs moby-sensor with `arguments` until it exits (at most `timeout`); its status and output.
    func run(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> (Int32, String) {
        let folder = try TestPaths.scratch("sensor-command")
        let process = ServiceProcess(
            name: "moby-sensor", executable: try TestExecutable.path("moby-sensor"),
            arguments: arguments + ["--outbox", folder.appendingPathComponent("outbox").path, "--quiet"],
            logFile: folder.appendingPathComponent("moby-sensor.log"))
        try process.start()
        defer { process.stop() }
        try await eventually("moby-sensor to exit", timeout: timeout) { !process.isRunning }
        return (process.stop(), process.logTail(bytes: 4_000))
    }

    @Test(arguments: [
        (["--prefix", "line#"], "--prefix 'line#' does not make valid device ids"),
        (["--stdin", "--credentials", "/dev/null"], "--credentials applies to simulated devices only"),
        (["--rate", "1e-10"], "--rate must be at least 1/86400"),
        (["--command", "true", "--command-timeout", "0.0004"], "--command-timeout must be in 0.001...86400 seconds"),
        (["--command", "true", "--interval", "1e300"], "--interval must be in 0.001...86400 seconds"),
        (["--command", "true", "--interval", "nan"], "--interval must be in 0.001...86400 seconds"),
        (["--command", "true", "--command-timeout=-1"], "--command-timeout must be in 0.001...86400 seconds"),
        (["--command", "true", "--command-timeout", "inf"], "--command-timeout must be in 0.001...86400 seconds"),
    ])
    func settingsThatWouldLoseReadingsAreRefused(arguments: [String], reason: String) async throws {
        let (status, output) = try await run(["--mqtt-url", "mqtt://127.0.0.1:1"] + arguments, timeout: .seconds(20))
        #expect(status == 64, "exit status \(status): \(output)")
        #expect(output.contains(reason), "\(output)")
    }

    @Test func aCountRunEndsWhenALinksShareIsNothing() async throws {
        // A broker with a shared user and one device's own (as the deploy's broker has).
        let broker = try TestBroker(label: "mosquitto-count") { directory in
            try .users(
                [("fleet", "fleet-pw"), ("sensor_002", "secret")],
                acl: "user fleet\ntopic write factory/sensor/data/#\npattern write factory/sensor/data/%u\n",
                in: directory)
        }
        try await broker.start()
        defer { broker.stop() }
        // Three devices, one on its own connection: the shared one's share of 1 is 0.
        let credentials = try TestPaths.scratch("sensor-credentials").appendingPathComponent("credentials")
        try "sensor_002 sensor_002 secret\n".write(to: credentials, atomically: true, encoding: .utf8)
        let (status, output) = try await run([
            "--mqtt-url", "mqtt://fleet:fleet-pw@127.0.0.1:\(broker.port)", "--devices", "3", "--count", "1",
            "--rate", "100", "--credentials", credentials.path, "--client-id", "count-share",
        ])
        #expect(status == 0, "exit status \(status): \(output)")
    }

    @Test func commandOutputIsSplitIntoLinesWhateverTheLineEnd() {
        func lines(_ text: String, in pieces: Int = 1, whole: Bool = true) -> [String] {
            var splitter = LineSplitter()
            var lines: [String] = []
            let bytes = Array(text.utf8)
            let size = max(1, (bytes.count + pieces - 1) / pieces)
            for start in stride(from: 0, to: bytes.count, by: size) {
                splitter.feed(bytes[start..<min(start + size, bytes.count)]) { lines.append($0) }
            }
            splitter.finish(whole: whole) { lines.append($0) }
            return lines
        }
        #expect(lines("a\r\nb\n\r\nc") == ["a", "b", "c"])
        #expect(lines("a\r\nb\n\r\nc", in: 9) == ["a", "b", "c"], "a CR and its LF in different pieces")
        #expect(lines("{\"t\":1}\r\n") == ["{\"t\":1}"])
        #expect(lines("") == [])
        #expect(lines("a\nbeginning of a line", whole: false) == ["a"], "cut off: the last piece is not a line")
        // The cap: a CR at the cut is not the line's end, so a line too long stays too long.
        let fits = String(repeating: "x", count: LineReader.maxLine - 1)
        #expect(
            lines(fits + "\r\n", in: 3).map(\.utf8.count) == [LineReader.maxLine - 1], "a reading of the maximum size")
        #expect(lines(fits + "\ryz\nnext\n", in: 3).map(\.utf8.count) == [LineReader.maxLine, 4], "still too long")
        #expect(lines(fits + "y\r\n").map(\.utf8.count) == [LineReader.maxLine], "too long, its CR dropped")
    }
}
