import Foundation

/// Why a catalog file cannot be used; the message names the file and the offending key.
public struct CatalogError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

extension SensorCatalog {
    /// Reads and checks the catalog file at `path`.
    public static func load(path: String) throws(CatalogError) -> SensorCatalog {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CatalogError("sensor catalog \(path): cannot read the file")
        }
        do {
            return try SensorCatalog(json: Array(data))
        } catch {
            throw CatalogError("sensor catalog \(path): \(error.description)")
        }
    }

    /// Parses a catalog document (see `config/sensors.json`). Every metric must be listed once;
    /// limits must be ordered (critical beyond warning, both inside the valid range).
    public init(json: [UInt8]) throws(CatalogError) {
        let document: JSONValue
        do {
            document = try JSONParser.parse(json)
        } catch {
            throw CatalogError(error.description)
        }
        let root = try Self.object(document, at: "the document")
        let scoreObject = try Self.object(try Self.member(root, "score", at: ""), at: "score")
        let score = ScoreLimits(
            warning: try Self.number(try Self.member(scoreObject, "warning", at: "score"), at: "score.warning"),
            critical: try Self.number(try Self.member(scoreObject, "critical", at: "score"), at: "score.critical"))
        guard score.warning > 0, score.critical > score.warning else {
            throw CatalogError("score: need 0 < warning < critical, got \(score.warning) and \(score.critical)")
        }
        let metrics = try Self.object(try Self.member(root, "metrics", at: ""), at: "metrics")
        var entries: [Entry] = []
        for (name, value) in metrics {
            guard let metric = Metric(name: name) else {
                throw CatalogError(
                    "metrics.\(name): unknown metric; known: \(Metric.allCases.map(\.name).joined(separator: ", "))")
            }
            if entries.contains(where: { $0.metric == metric }) { throw CatalogError("metrics.\(name): listed twice") }
            entries.append(try Self.entry(metric, value, at: "metrics.\(name)"))
        }
        let missing = Metric.allCases.filter { metric in !entries.contains { $0.metric == metric } }
        guard missing.isEmpty else {
            throw CatalogError("metrics: missing \(missing.map(\.name).joined(separator: ", "))")
        }
        self.init(entries: entries, score: score)
    }

    private static func entry(_ metric: Metric, _ value: JSONValue, at path: String) throws(CatalogError) -> Entry {
        let fields = try object(value, at: path)
        let known: Set = ["unit", "valid", "nominal", "scale", "warning", "critical"]
        if let unknown = fields.first(where: { !known.contains($0.0) }) {
            throw CatalogError("\(path).\(unknown.0): unknown key; known: \(known.sorted().joined(separator: ", "))")
        }
        guard case .string(let unit) = try member(fields, "unit", at: path) else {
            throw CatalogError("\(path).unit: expected a string")
        }
        guard case .array(let bounds) = try member(fields, "valid", at: path), bounds.count == 2 else {
            throw CatalogError("\(path).valid: expected [lowest, highest]")
        }
        let lowest = try number(bounds[0], at: "\(path).valid[0]")
        let highest = try number(bounds[1], at: "\(path).valid[1]")
        guard lowest < highest else { throw CatalogError("\(path).valid: \(lowest) is not below \(highest)") }
        let nominal = try fields.first { $0.0 == "nominal" }.map { (pair) throws(CatalogError) in
            try number(pair.1, at: "\(path).nominal")
        }
        let scale = try fields.first { $0.0 == "scale" }.map { (pair) throws(CatalogError) in
            try number(pair.1, at: "\(path).scale")
        }
        guard (nominal == nil) == (scale == nil) else {
            throw CatalogError("\(path): give both nominal and scale, or neither (not scored)")
        }
        if let scale, !(scale > 0) { throw CatalogError("\(path).scale: must be greater than 0, got \(scale)") }
        if let nominal, !(lowest...highest).contains(nominal) {
            throw CatalogError("\(path).nominal: \(nominal) is outside the valid range \(lowest)...\(highest)")
        }
        let warning = try limits(fields, "warning", at: path)
        let critical = try limits(fields, "critical", at: path)
        for (name, limit) in [
            ("warning.low", warning.low), ("warning.high", warning.high), ("critical.low", critical.low),
            ("critical.high", critical.high),
        ] {
            if let limit, !(lowest...highest).contains(limit) {
                throw CatalogError("\(path).\(name): \(limit) is outside the valid range \(lowest)...\(highest)")
            }
        }
        if let w = warning.high, let c = critical.high, c < w {
            throw CatalogError("\(path): critical.high \(c) is below warning.high \(w)")
        }
        if let w = warning.low, let c = critical.low, c > w {
            throw CatalogError("\(path): critical.low \(c) is above warning.low \(w)")
        }
        if let low = warning.low, let high = warning.high, low >= high {
            throw CatalogError("\(path): warning.low \(low) is not below warning.high \(high)")
        }
        return Entry(
            metric: metric, unit: unit, validRange: lowest...highest, nominal: nominal, scale: scale,
            warning: warning, critical: critical)
    }

    private static func limits(_ fields: [(String, JSONValue)], _ key: String, at path: String) throws(CatalogError)
        -> Limits
    {
        guard let value = fields.first(where: { $0.0 == key })?.1 else { return Limits() }
        let members = try object(value, at: "\(path).\(key)")
        var limits = Limits()
        for (name, bound) in members {
            switch name {
            case "low": limits.low = try number(bound, at: "\(path).\(key).low")
            case "high": limits.high = try number(bound, at: "\(path).\(key).high")
            default: throw CatalogError("\(path).\(key).\(name): unknown key; use low and/or high")
            }
        }
        return limits
    }

    private static func object(_ value: JSONValue, at path: String) throws(CatalogError) -> [(String, JSONValue)] {
        guard case .object(let members) = value else {
            throw CatalogError("\(path): expected an object, got \(value.typeName)")
        }
        return members
    }

    private static func member(_ members: [(String, JSONValue)], _ key: String, at path: String) throws(CatalogError)
        -> JSONValue
    {
        guard let value = members.first(where: { $0.0 == key })?.1 else {
            throw CatalogError("\(path.isEmpty ? key : "\(path).\(key)"): missing")
        }
        return value
    }

    private static func number(_ value: JSONValue, at path: String) throws(CatalogError) -> Double {
        guard case .number(let number, _) = value, number.isFinite else {
            throw CatalogError("\(path): expected a number, got \(value.typeName)")
        }
        return number
    }
}
