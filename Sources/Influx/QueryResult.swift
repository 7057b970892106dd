/// The answer to one InfluxQL statement: zero or more series (one per group of a GROUP BY).
public struct QueryResult: Sendable, Decodable {
    public var statementID: Int?
    public var series: [Series]
    public var error: String?
    /// More of the answer follows (chunked answers, which we do not ask for).
    public var partial: Bool

    enum CodingKeys: String, CodingKey {
        case statementID = "statement_id"
        case series
        case error
        case partial
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        statementID = try container.decodeIfPresent(Int.self, forKey: .statementID)
        series = try container.decodeIfPresent([Series].self, forKey: .series) ?? []
        error = try container.decodeIfPresent(String.self, forKey: .error)
        partial = try container.decodeIfPresent(Bool.self, forKey: .partial) ?? false
    }
}

/// One table of a query result.
public struct Series: Sendable, Decodable {
    public var name: String?
    public var tags: [String: String]?
    public var columns: [String]
    public var values: [[QueryValue]]
    /// InfluxDB cut the series short (its `max-row-limit`).
    public var partial: Bool

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        tags = try container.decodeIfPresent([String: String].self, forKey: .tags)
        columns = try container.decodeIfPresent([String].self, forKey: .columns) ?? []
        values = try container.decodeIfPresent([[QueryValue]].self, forKey: .values) ?? []
        partial = try container.decodeIfPresent(Bool.self, forKey: .partial) ?? false
    }

    enum CodingKeys: String, CodingKey { case name, tags, columns, values, partial }

    /// Rows as column-name → value dictionaries.
    public var rows: [[String: QueryValue]] {
        values.map { row in Dictionary(zip(columns, row).map { ($0, $1) }, uniquingKeysWith: { a, _ in a }) }
    }
}

/// One cell of a query result.
public enum QueryValue: Sendable, Equatable, Decodable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The value as a number (ints widened), nil for other types.
    public var double: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    public var int: Int64? {
        switch self {
        case .int(let value): value
        case .double(let value) where value == value.rounded(): Int64(exactly: value)
        default: nil
        }
    }
}

struct QueryResponse: Decodable {
    var results: [QueryResult]?
    var error: String?
}
