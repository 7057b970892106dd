import Foundation

/// The MQTT client id an edge agent uses when none is given: the same at every start with the
/// same outbox on the same host, and different for another outbox. The agent's session is
/// persistent (the broker keeps what it has not acknowledged), so an id per start (the process
/// id, as before) left one abandoned session on the broker per restart. Two agents cannot share
/// an outbox (its spool is locked), so they cannot share this id either.
public enum AgentClientID {
    /// `moby-sensor-<host>-<8 hex digits of the outbox's absolute path>`.
    public static func forOutbox(_ outbox: String, host: String = ProcessInfo.processInfo.hostName) -> String {
        let path = URL(fileURLWithPath: outbox).standardizedFileURL.path
        var hash: UInt32 = 0x811C_9DC5  // FNV-1a: short, stable across runs and builds
        for byte in path.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        let name = host.split(separator: ".").first.map { part in
            String(part.prefix(40).map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") ? $0 : "-" })
        }
        let digits = String(hash, radix: 16)
        let suffix = String(repeating: "0", count: 8 - digits.count) + digits
        return "moby-sensor-\(name.flatMap { $0.isEmpty ? nil : $0 } ?? "host")-\(suffix)"
    }
}
