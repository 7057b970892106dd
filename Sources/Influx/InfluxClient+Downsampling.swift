extension InfluxClient {
    /// What `ensureDownsampling` found and did, for the start-up log.
    public enum DownsamplingChange: Sendable, Equatable {
        case unchanged
        case created
        /// The continuous query existed with another definition and was replaced.
        case replaced(previous: String)
        /// Downsampling is off and the continuous query was dropped.
        case dropped
        /// Not possible through this API (v2: a task does it, see docs/decisions.md).
        case unsupported
    }

    /// The continuous query's name for `measurement`: one per measurement and tier.
    public func continuousQueryName(for measurement: String) -> String {
        "\(measurement)_\(configuration.downsampling?.retentionPolicy ?? "long_term")"
    }

    /// The `CREATE CONTINUOUS QUERY` statement that folds `measurement`'s raw points into the
    /// long-term tier: mean, min and max of every field per interval and device (`GROUP BY *`
    /// keeps the tags), recomputing the last few intervals on each run for late readings.
    public func continuousQuery(for measurement: String, _ downsampling: InfluxConfiguration.Downsampling) -> String {
        let db = Self.quoteIdentifier(configuration.database)
        let source = "\(db).\(Self.quoteIdentifier(configuration.retentionPolicy)).\(Self.quoteIdentifier(measurement))"
        let target = "\(db).\(Self.quoteIdentifier(downsampling.retentionPolicy)).\(Self.quoteIdentifier(measurement))"
        return "CREATE CONTINUOUS QUERY \(Self.quoteIdentifier(continuousQueryName(for: measurement))) ON \(db) "
            + "RESAMPLE EVERY \(downsampling.interval) FOR \(downsampling.resampleFor) BEGIN "
            + "SELECT mean(*), min(*), max(*) INTO \(target) FROM \(source) "
            + "GROUP BY time(\(downsampling.interval)), * END"
    }

    /// Creates the long-term retention policy (not the default) and the continuous query for
    /// `measurement`, or brings them in line with the configuration: idempotent, so every start
    /// (and every server of a pair) may run it. With downsampling off, drops our continuous
    /// query (the long-term points already written stay until their retention ends).
    @discardableResult
    public func ensureDownsampling(of measurement: String) async throws(InfluxError) -> DownsamplingChange {
        guard case .v1 = configuration.api else { return .unsupported }
        let db = Self.quoteIdentifier(configuration.database)
        let name = continuousQueryName(for: measurement)
        let shown = try await query("SHOW CONTINUOUS QUERIES", database: "")
        let existing = shown.flatMap(\.series).first { $0.name == configuration.database }?.rows
            .first { $0["name"]?.string == name }?["query"]?.string
        guard let downsampling = configuration.downsampling else {
            guard existing != nil else { return .unchanged }
            _ = try await query("DROP CONTINUOUS QUERY \(Self.quoteIdentifier(name)) ON \(db)", database: "")
            return .dropped
        }
        let rp = Self.quoteIdentifier(downsampling.retentionPolicy)
        let policies = try await query("SHOW RETENTION POLICIES ON \(db)", database: "")
        let policyExists =
            policies.first?.series.first?.rows.contains { $0["name"]?.string == downsampling.retentionPolicy } ?? false
        let duration = downsampling.retention.text
        _ = try await query(
            policyExists
                ? "ALTER RETENTION POLICY \(rp) ON \(db) DURATION \(duration)"
                : "CREATE RETENTION POLICY \(rp) ON \(db) DURATION \(duration) REPLICATION 1", database: "")
        let statement = continuousQuery(for: measurement, downsampling)
        if let existing, Self.sameStatement(existing, statement) { return .unchanged }
        if existing != nil {
            _ = try await query("DROP CONTINUOUS QUERY \(Self.quoteIdentifier(name)) ON \(db)", database: "")
        }
        _ = try await query(statement, database: "")
        return existing.map { .replaced(previous: $0) } ?? .created
    }

    /// InfluxDB answers a statement without the quotes of plain identifiers and with its own
    /// spacing; compare what is left.
    static func sameStatement(_ shown: String, _ ours: String) -> Bool {
        func normalized(_ text: String) -> String {
            text.replacingOccurrences(of: "\"", with: "").split(whereSeparator: \.isWhitespace).joined(separator: " ")
                .lowercased()
        }
        return normalized(shown) == normalized(ours)
    }
}
