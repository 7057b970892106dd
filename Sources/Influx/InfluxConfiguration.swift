import Foundation

/// Where and how to reach InfluxDB, every part already checked: the base URL, the API (v1 with
/// optional basic auth, or v2 with organisation, bucket and token), the retention of raw points.
public struct InfluxConfiguration: Sendable {
    /// Which write API to use and how to authenticate.
    public enum API: Sendable, Equatable {
        /// `/write?db=&rp=` (1.x, and 2.x/3.x through their v1 compatibility), basic auth if set.
        case v1(credentials: Credentials?)
        /// `/api/v2/write?org=&bucket=` with an API token; databases and retention are the
        /// administrator's.
        case v2(org: String, bucket: String, token: String)
    }

    /// A user name and password for the v1 API.
    public struct Credentials: Sendable, Equatable {
        public var username: String
        public var password: String

        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }
    }

    /// How long raw points are kept.
    public enum Retention: Sendable, Equatable {
        case forever
        /// An InfluxQL duration (`30d`, `1h30m`) and its length.
        case duration(String, nanoseconds: Int64)

        /// The shortest retention InfluxDB 1.x accepts (but for 0, which means forever).
        public static let minimum: Int64 = 3_600_000_000_000

        /// Parses an InfluxQL duration or `INF`; nil when `text` is neither, or is shorter than an
        /// hour (InfluxDB refuses the policy). A duration of 0 (`0s`, as `SHOW RETENTION POLICIES`
        /// prints INF) is forever.
        public init?(_ text: String) {
            if text.uppercased() == "INF" {
                self = .forever
            } else if let nanoseconds = InfluxDuration.nanoseconds(text) {
                guard nanoseconds != 0 else {
                    self = .forever
                    return
                }
                guard nanoseconds >= Self.minimum else { return nil }
                self = .duration(text, nanoseconds: nanoseconds)
            } else {
                return nil
            }
        }

        /// As InfluxQL writes it.
        public var text: String {
            switch self {
            case .forever: "INF"
            case .duration(let text, _): text
            }
        }

        /// Nil when kept forever.
        public var nanoseconds: Int64? {
            if case .duration(_, let nanoseconds) = self { nanoseconds } else { nil }
        }
    }

    /// The long-term tier (seed §5.2): raw points folded into per-`interval` mean, min and max
    /// per device by an InfluxDB continuous query, kept in their own retention policy for much
    /// longer than the raw ones, so long ranges stay cheap to read.
    public struct Downsampling: Sendable, Equatable {
        /// The retention policy the downsampled points go to.
        public var retentionPolicy: String
        public var retention: Retention
        /// One downsampled point covers this long (an InfluxQL duration, e.g. `1m`).
        public var interval: String
        public var intervalNanoseconds: Int64

        /// Nil when `interval` is not an InfluxQL duration of at least a second.
        public init?(retentionPolicy: String = "long_term", retention: Retention, interval: String = "1m") {
            guard let nanoseconds = InfluxDuration.nanoseconds(interval), nanoseconds >= 1_000_000_000 else {
                return nil
            }
            self.retentionPolicy = retentionPolicy
            self.retention = retention
            self.interval = InfluxDuration.format(nanoseconds)
            self.intervalNanoseconds = nanoseconds
        }

        /// How far back each run of the continuous query looks again, so readings that arrive a
        /// little late (an edge outbox replaying after a short outage) are still folded in.
        public var resampleFor: String { InfluxDuration.format(5 * intervalNanoseconds) }
    }

    /// Base URL (`http` or `https`, with a host), e.g. `http://127.0.0.1:8086`.
    public var url: URL
    public var database: String
    /// The retention policy writes go to (and the one created at start).
    public var retentionPolicy: String
    public var retention: Retention
    /// The long-term tier; nil when switched off.
    public var downsampling: Downsampling?
    public var api: API
    /// One HTTP request's timeout.
    public var requestTimeout: Duration
    /// For `https://`: a PEM file of the CAs trusted for InfluxDB's certificate; nil: the system's.
    public var caFile: String?

    public init(
        url: URL, database: String = "moby", retentionPolicy: String = "raw",
        retention: Retention = .duration("30d", nanoseconds: 30 * 86_400 * 1_000_000_000),
        downsampling: Downsampling? = nil,
        api: API = .v1(credentials: nil), requestTimeout: Duration = .seconds(10), caFile: String? = nil
    ) {
        self.caFile = caFile
        self.url = url
        self.database = database
        self.retentionPolicy = retentionPolicy
        self.retention = retention
        self.downsampling = downsampling
        self.api = api
        self.requestTimeout = requestTimeout
    }

    /// An `http`/`https` URL with a host; nil for anything else.
    public static func baseURL(_ text: String) -> URL? {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty
        else { return nil }
        return url
    }
}
