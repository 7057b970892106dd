import Foundation

/// What went wrong talking to InfluxDB, split by what the caller should do about it.
public enum InfluxError: Error, Sendable, CustomStringConvertible {
    /// Worth retrying: connection refused or reset, timeout, 5xx, 429. `retryAfter` comes from
    /// the server's Retry-After header when it sent one.
    case unavailable(String, retryAfter: Duration?)
    /// InfluxDB refused the request (4xx); retrying the same body cannot help.
    case rejected(status: Int, message: String, badLines: [BadLine])
    /// A query answered with an error.
    case query(String)
    /// The database or its retention policy (or the v2 bucket) does not exist: a write is held
    /// and retried once it is created; a query has no data yet.
    case databaseNotFound(String)
    /// InfluxDB would not answer a query in full under one of its configured limits; which one
    /// says what may pass instead.
    case overLimit(String, QueryLimit)

    /// What a query over InfluxDB's limits should change.
    public enum QueryLimit: Sendable, Equatable {
        /// InfluxDB runs as many queries as it allows (`max-concurrent-queries`): the same query
        /// may pass shortly.
        case busy
        /// It reads too many points or series, or takes too long (`max-select-point`,
        /// `max-select-series`, `query-timeout`): a shorter range may pass.
        case range
        /// It makes too many buckets or rows (`max-select-buckets`, an answer cut at
        /// `max-row-limit`): fewer points may pass.
        case points
    }

    public var description: String {
        switch self {
        case .unavailable(let reason, let retryAfter):
            "InfluxDB unavailable: \(reason)" + (retryAfter.map { " (retry after \($0))" } ?? "")
        case .rejected(let status, let message, let badLines):
            "InfluxDB rejected the write (HTTP \(status)): \(message)"
                + (badLines.isEmpty ? "" : " [\(badLines.count) bad line(s)]")
        case .query(let message): "InfluxQL error: \(message)"
        case .databaseNotFound(let message): "InfluxDB: \(message)"
        case .overLimit(let message, _): "InfluxDB's limits: \(message)"
        }
    }

    /// True when retrying later may succeed.
    public var isRetryable: Bool {
        switch self {
        case .unavailable, .databaseNotFound: true
        case .overLimit(_, let limit): limit == .busy
        case .rejected, .query: false
        }
    }

    /// A query's error by what InfluxDB's words say it is; the one place they are read (InfluxDB
    /// 1.x spells one of them "exceeed", so only the limit's name is matched).
    static func answering(query message: String) -> InfluxError {
        if isDatabaseNotFound(message) { return .databaseNotFound(message) }
        let limits: [(String, QueryLimit)] = [
            ("max-concurrent-queries limit", .busy), ("query-timeout limit", .range),
            ("max-select-point limit", .range), ("max-select-series limit", .range),
            ("max-select-buckets limit", .points),
        ]
        if let (_, limit) = limits.first(where: { message.contains($0.0) }) { return .overLimit(message, limit) }
        return .query(message)
    }

    /// InfluxDB's words for a missing database or retention policy (1.x) or bucket (2.x); the
    /// one place they are read.
    static func isDatabaseNotFound(_ message: String) -> Bool {
        message.hasPrefix("database not found") || message.hasPrefix("bucket not found")
            || message.contains("database not found:") || message.hasPrefix("retention policy not found")
    }
}

/// One line InfluxDB refused in a partial write, as InfluxDB reported it.
public struct BadLine: Sendable, Equatable {
    /// The line's text as quoted by InfluxDB (may be truncated by the server).
    public var line: String
    public var reason: String

    public init(line: String, reason: String) {
        self.line = line
        self.reason = reason
    }

    /// The number of points InfluxDB says it dropped (`... dropped=3`), if it says.
    public static func droppedCount(in errorMessage: String) -> Int? {
        guard let range = errorMessage.range(of: "dropped=", options: .backwards) else { return nil }
        return Int(errorMessage[range.upperBound...].prefix { $0.isNumber })
    }

    /// Parses InfluxDB 1.x/2.x write errors such as
    /// `partial write: unable to parse 'bad line': missing fields dropped=1`
    /// (several `unable to parse` clauses are joined by newlines).
    public static func parse(errorMessage: String) -> [BadLine] {
        var result: [BadLine] = []
        var rest = Substring(errorMessage)
        let marker = "unable to parse '"
        while let start = rest.range(of: marker) {
            rest = rest[start.upperBound...]
            // The quoted line ends at "': " (the line itself may contain quotes).
            guard let end = rest.range(of: "': ") else { break }
            let line = String(rest[..<end.lowerBound])
            rest = rest[end.upperBound...]
            let reasonEnd = rest.range(of: "\n")?.lowerBound ?? rest.range(of: marker)?.lowerBound ?? rest.endIndex
            var reason = String(rest[..<reasonEnd]).trimmingCharacters(in: [" ", "\n"])
            if let dropped = reason.range(of: " dropped=") { reason = String(reason[..<dropped.lowerBound]) }
            result.append(BadLine(line: line, reason: reason))
        }
        return result
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
        var text = Substring(self)
        while let first = text.first, set.contains(first) { text.removeFirst() }
        while let last = text.last, set.contains(last) { text.removeLast() }
        return String(text)
    }
}
