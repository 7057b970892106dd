/// Where and how to reach InfluxDB. With `org`, `bucket` and `token` set, writes use the v2 API
/// (`/api/v2/write`); otherwise the v1 API (`/write?db=&rp=`), which 1.x, 2.x and 3.x all accept.
public struct InfluxConfiguration: Sendable {
    /// Base URL, e.g. `http://127.0.0.1:8086`.
    public var url: String
    public var database: String
    /// The retention policy writes go to (and the one created at start).
    public var retentionPolicy: String
    /// How long raw points are kept, as InfluxQL duration (`30d`, `4w`, `INF`).
    public var retentionDuration: String
    public var username: String?
    public var password: String?
    public var org: String?
    public var bucket: String?
    public var token: String?
    /// One HTTP request's timeout.
    public var requestTimeout: Duration

    public init(
        url: String = "http://127.0.0.1:8086", database: String = "moby", retentionPolicy: String = "raw",
        retentionDuration: String = "30d", username: String? = nil, password: String? = nil, org: String? = nil,
        bucket: String? = nil, token: String? = nil, requestTimeout: Duration = .seconds(10)
    ) {
        self.url = url
        self.database = database
        self.retentionPolicy = retentionPolicy
        self.retentionDuration = retentionDuration
        self.username = username
        self.password = password
        self.org = org
        self.bucket = bucket
        self.token = token
        self.requestTimeout = requestTimeout
    }

    /// True when writes go to `/api/v2/write`.
    public var usesV2: Bool { org != nil && bucket != nil && token != nil }
}
