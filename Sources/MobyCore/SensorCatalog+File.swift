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
        let knownRoot: Set = ["_comment", "_profiles", "score", "metrics", "profiles", "device_labels"]
        if let unknown = root.first(where: { !knownRoot.contains($0.0) }) {
            throw CatalogError("\(unknown.0): unknown key; known: \(knownRoot.sorted().joined(separator: ", "))")
        }
        if let labels = root.first(where: { $0.0 == "device_labels" })?.1 {
            deviceLabels = try Self.deviceLabels(labels)
        }
        if let profiles = root.first(where: { $0.0 == "profiles" })?.1 {
            for (name, value) in try Self.object(profiles, at: "profiles") {
                let path = "profiles.\(name)"
                if let problem = Self.profileNameProblem(name) { throw CatalogError("\(path): \(problem)") }
                if self.profiles[name] != nil { throw CatalogError("\(path): listed twice") }
                var profile = try resolve(try Self.object(value, at: path), at: path)
                profile.profileName = name
                self.profiles[name] = profile
            }
        }
    }

    /// Why `name` cannot name a profile: letters, digits, `-` and `_`, at most 64, not `default`.
    public static func profileNameProblem(_ name: String) -> String? {
        if name == defaultProfile { return "'default' is the catalog's own limits and cannot be redefined" }
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
        guard !name.isEmpty, name.utf8.count <= 64, allowed else {
            return "a profile name is 1 to 64 ASCII letters, digits, - and _"
        }
        return nil
    }

    /// Tag keys that are taken: a label cannot be one of them.
    public static let reservedTagKeys: Set = ["device_id", "location", "line", "profile"]

    private static func deviceLabels(_ value: JSONValue) throws(CatalogError) -> [String] {
        guard case .array(let items) = value else { throw CatalogError("device_labels: expected an array of names") }
        var labels: [String] = []
        for (index, item) in items.enumerated() {
            guard case .string(let key) = item, profileNameProblem(key) == nil,
                key.first.map({ $0.isLetter }) == true
            else {
                throw CatalogError(
                    "device_labels[\(index)]: a label key is 1 to 64 ASCII letters, digits, - and _, starting with a letter"
                )
            }
            guard !reservedTagKeys.contains(key) else {
                throw CatalogError("device_labels[\(index)]: '\(key)' is a tag of its own")
            }
            guard !labels.contains(key) else { throw CatalogError("device_labels[\(index)]: '\(key)' listed twice") }
            labels.append(key)
        }
        guard labels.count <= 8 else {
            throw CatalogError("device_labels: at most 8 keys (each is an InfluxDB tag), got \(labels.count)")
        }
        return labels.sorted()
    }

    /// A profile: this catalog with the given metrics' nominal, scale and limits replaced (a
    /// severity given replaces both of its bounds) and optionally the score limits, checked like
    /// the catalog itself.
    private func resolve(_ members: [(String, JSONValue)], at path: String) throws(CatalogError) -> SensorCatalog {
        var entries = self.entries
        var score = self.score
        for (key, value) in members {
            switch key {
            case "score":
                let limits = try Self.object(value, at: "\(path).score")
                for (name, bound) in limits {
                    switch name {
                    case "warning": score.warning = try Self.number(bound, at: "\(path).score.warning")
                    case "critical": score.critical = try Self.number(bound, at: "\(path).score.critical")
                    default: throw CatalogError("\(path).score.\(name): unknown key; use warning and/or critical")
                    }
                }
                guard score.warning > 0, score.critical > score.warning else {
                    throw CatalogError(
                        "\(path).score: need 0 < warning < critical, got \(score.warning) and \(score.critical)")
                }
            case "metrics":
                for (name, override) in try Self.object(value, at: "\(path).metrics") {
                    let at = "\(path).metrics.\(name)"
                    guard let metric = Metric(name: name), let base = entries[metric] else {
                        throw CatalogError(
                            "\(at): unknown metric; known: \(Metric.allCases.map(\.name).joined(separator: ", "))")
                    }
                    let fields = try Self.object(override, at: at)
                    let allowed: Set = ["nominal", "scale", "warning", "critical"]
                    if let unknown = fields.first(where: { !allowed.contains($0.0) }) {
                        throw CatalogError(
                            "\(at).\(unknown.0): a profile overrides only \(allowed.sorted().joined(separator: ", "))")
                    }
                    var entry = base
                    for (field, fieldValue) in fields {
                        switch field {
                        case "nominal": entry.nominal = try Self.number(fieldValue, at: "\(at).nominal")
                        case "scale": entry.scale = try Self.number(fieldValue, at: "\(at).scale")
                        case "warning": entry.warning = try Self.limits(fields, "warning", at: at)
                        default: entry.critical = try Self.limits(fields, "critical", at: at)
                        }
                    }
                    try Self.check(entry, at: at)
                    entries[metric] = entry
                }
            default:
                throw CatalogError("\(path).\(key): unknown key; a profile has metrics and score")
            }
        }
        return SensorCatalog(entries: Metric.allCases.compactMap { entries[$0] }, score: score)
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
        let entry = Entry(
            metric: metric, unit: unit, validRange: lowest...highest, nominal: nominal, scale: scale,
            warning: try limits(fields, "warning", at: path), critical: try limits(fields, "critical", at: path))
        try check(entry, at: path)
        return entry
    }

    /// Scoring needs both nominal and scale; limits inside the valid range and in order.
    private static func check(_ entry: Entry, at path: String) throws(CatalogError) {
        let (lowest, highest) = (entry.validRange.lowerBound, entry.validRange.upperBound)
        guard (entry.nominal == nil) == (entry.scale == nil) else {
            throw CatalogError("\(path): give both nominal and scale, or neither (not scored)")
        }
        if let scale = entry.scale, !(scale > 0) {
            throw CatalogError("\(path).scale: must be greater than 0, got \(scale)")
        }
        if let nominal = entry.nominal, !(lowest...highest).contains(nominal) {
            throw CatalogError("\(path).nominal: \(nominal) is outside the valid range \(lowest)...\(highest)")
        }
        let (warning, critical) = (entry.warning, entry.critical)
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
