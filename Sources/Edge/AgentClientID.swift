import Foundation

/// The MQTT client id an edge agent uses when none is given, kept in its outbox folder
/// (`client-id`): made once (host name and 8 random hex digits), then the same at every start
/// with that outbox. The agent's session is persistent (the broker keeps what it has not
/// acknowledged), so an id per start (the process id, as before) left one abandoned session on
/// the broker per restart; and devices cloned from one image share host name and paths, so the
/// id cannot be derived from them alone. Two agents cannot share an outbox (its spool is
/// locked), so they do not share an id either.
public enum AgentClientID {
    /// The id stored in `outbox`, or a new one stored there (creating the folder).
    public static func stored(in outbox: String, host: String = ProcessInfo.processInfo.hostName) throws -> String {
        let folder = URL(fileURLWithPath: outbox)
        let file = folder.appendingPathComponent("client-id")
        if let data = try? Data(contentsOf: file),
            let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
            !text.isEmpty, text.utf8.count <= 256, text.allSatisfy({ $0.isASCII && !$0.isWhitespace })
        {
            return text
        }
        let id = "moby-sensor-\(plain(host))-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data((id + "\n").utf8).write(to: file, options: .atomic)
        return id
    }

    /// The first label of `host`, letters, digits and dashes only.
    static func plain(_ host: String) -> String {
        let label = host.split(separator: ".").first.map { part in
            String(part.prefix(40).map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") ? $0 : "-" })
        }
        return label.flatMap { $0.isEmpty ? nil : $0 } ?? "host"
    }
}
