import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Talks HTTP to InfluxDB: writes line protocol, runs InfluxQL, checks health and creates the
/// database with its retention policy. One call is one request; retrying is the caller's choice
/// (see `InfluxError.isRetryable`).
public struct InfluxClient: Sendable {
    public let configuration: InfluxConfiguration
    private let http: HTTPClient
    private let baseURL: String
    /// Writes over plain HTTP go through our own connection (see `InfluxWriteLink`).
    private let writeLink: InfluxWriteLink?

    /// `httpClient` nil: the shared client, or, with `configuration.caFile`, one trusting that CA.
    /// `writeEventLoop`: where the write connection lives (default: any of NIO's singleton group).
    public init(
        configuration: InfluxConfiguration, httpClient: HTTPClient? = nil, writeEventLoop: (any EventLoop)? = nil
    ) {
        self.configuration = configuration
        self.http = httpClient ?? configuration.caFile.map(InfluxHTTPClients.trusting) ?? .shared
        var base = configuration.url.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        let url = configuration.url
        if url.scheme?.lowercased() == "http", let host = url.host {
            var prefix = url.path
            while prefix.hasSuffix("/") { prefix.removeLast() }
            var headers = HTTPHeaders()
            if let authorization = Self.authorization(configuration.api) {
                headers.add(name: "Authorization", value: authorization)
            }
            writeLink = InfluxWriteLink(
                host: host, port: url.port ?? 80, path: prefix + Self.writePath(configuration), headers: headers,
                timeout: configuration.requestTimeout, group: writeEventLoop ?? MultiThreadedEventLoopGroup.singleton)
        } else {
            writeLink = nil
        }
    }

    /// The write endpoint with its query, below the base URL.
    static func writePath(_ configuration: InfluxConfiguration) -> String {
        switch configuration.api {
        case .v2(let org, let bucket, _):
            "/api/v2/write?org=\(encode(org))&bucket=\(encode(bucket))&precision=ns"
        case .v1:
            "/write?db=\(encode(configuration.database))&rp=\(encode(configuration.retentionPolicy))&precision=ns"
        }
    }

    static func authorization(_ api: InfluxConfiguration.API) -> String? {
        switch api {
        case .v2(_, _, let token): "Token \(token)"
        case .v1(let credentials?):
            "Basic " + Data("\(credentials.username):\(credentials.password)".utf8).base64EncodedString()
        case .v1(nil): nil
        }
    }

    // MARK: Writing

    /// Writes a body of newline-terminated lines (nanosecond timestamps).
    public func write(_ body: ByteBuffer) async throws(InfluxError) {
        if let writeLink {
            let answer = try await writeLink.write(body)
            guard (200..<300).contains(answer.status) else {
                throw Self.classify(status: answer.status, headers: answer.headers, body: answer.body)
            }
            return
        }
        var request = HTTPClientRequest(url: baseURL + Self.writePath(configuration))
        request.method = .POST
        addAuthorization(to: &request)
        request.headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        request.body = .bytes(body)
        let (status, headers, text) = try await send(request)
        guard (200..<300).contains(status) else {
            throw Self.classify(status: status, headers: headers, body: text)
        }
    }

    static func classify(status: Int, headers: HTTPHeaders, body: String) -> InfluxError {
        let message = Self.errorMessage(in: body)
        if status == 404, InfluxError.isDatabaseNotFound(message) { return .databaseNotFound(message) }
        if status == 429 || status >= 500 {
            let retryAfter = headers.first(name: "Retry-After").flatMap(Int.init).map { Duration.seconds($0) }
            return .unavailable("HTTP \(status): \(message)", retryAfter: retryAfter)
        }
        if status != 400 && status != 422 {
            // Authentication, a missing database, a body too large: the data is fine, the setup
            // is not. Retrying (and holding the data) is right; an operator can fix it.
            return .unavailable("HTTP \(status): \(message)", retryAfter: nil)
        }
        return .rejected(status: status, message: message, badLines: BadLine.parse(errorMessage: message))
    }

    // MARK: Querying

    /// Runs InfluxQL statements against the configured database (`epoch=ns` timestamps).
    /// Statements that change things (CREATE, ALTER, DROP) are sent as POST.
    public func query(_ statement: String, database: String? = nil) async throws(InfluxError) -> [QueryResult] {
        let db = database ?? configuration.database
        let isWrite = ["CREATE", "ALTER", "DROP", "DELETE", "GRANT", "REVOKE"].contains {
            statement.trimmingLeadingSpaces.uppercased().hasPrefix($0)
        }
        var request = HTTPClientRequest(
            url: "\(baseURL)/query?db=\(Self.encode(db))&epoch=ns&q=\(Self.encode(statement))")
        request.method = isWrite ? .POST : .GET
        addAuthorization(to: &request)
        let (status, headers, text) = try await send(request)
        guard (200..<300).contains(status) else {
            let error = Self.classify(status: status, headers: headers, body: text)
            if case .rejected(_, let message, _) = error { throw InfluxError.answering(query: message) }
            throw error
        }
        let response: QueryResponse
        do {
            response = try JSONDecoder().decode(QueryResponse.self, from: Data(text.utf8))
        } catch {
            throw .query("unreadable response: \(text.prefix(200))")
        }
        if let error = response.error { throw InfluxError.answering(query: error) }
        let results = response.results ?? []
        if let failed = results.first(where: { $0.error != nil }), let error = failed.error {
            throw InfluxError.answering(query: error)
        }
        // A series cut short by InfluxDB's `max-row-limit` (we never ask for chunks): an answer
        // that looks whole but is not would be worse than an error.
        if results.contains(where: { $0.partial || $0.series.contains(where: \.partial) }) {
            throw .overLimit("the answer was cut short (max-row-limit)", .points)
        }
        return results
    }

    /// `GET /ping`: true when InfluxDB answers.
    public func ping(timeout: Duration = .seconds(2)) async -> Bool {
        var request = HTTPClientRequest(url: "\(baseURL)/ping")
        request.method = .GET
        do {
            let response = try await http.execute(request, timeout: .init(timeout))
            return (200..<300).contains(Int(response.status.code))
        } catch {
            return false
        }
    }

    /// Creates the database and its retention policy (default) when missing; fixes the
    /// retention policy's duration when it differs. Not used with the v2 API (buckets are
    /// created by the InfluxDB administrator there).
    public func ensureDatabase() async throws(InfluxError) {
        guard case .v1 = configuration.api else { return }
        let db = Self.quoteIdentifier(configuration.database)
        let rp = Self.quoteIdentifier(configuration.retentionPolicy)
        _ = try await query("CREATE DATABASE \(db)", database: "")
        let policies = try await query("SHOW RETENTION POLICIES ON \(db)", database: "")
        let existing = policies.first?.series.first?.rows.first { $0["name"]?.string == configuration.retentionPolicy }
        let duration = configuration.retention.text
        if existing == nil {
            _ = try await query(
                "CREATE RETENTION POLICY \(rp) ON \(db) DURATION \(duration) REPLICATION 1 DEFAULT", database: "")
        } else {
            _ = try await query("ALTER RETENTION POLICY \(rp) ON \(db) DURATION \(duration) DEFAULT", database: "")
        }
    }

    // MARK: Plumbing

    private func addAuthorization(to request: inout HTTPClientRequest) {
        if let authorization = Self.authorization(configuration.api) {
            request.headers.add(name: "Authorization", value: authorization)
        }
    }

    private func send(_ request: HTTPClientRequest) async throws(InfluxError) -> (Int, HTTPHeaders, String) {
        do {
            let response = try await http.execute(request, timeout: .init(configuration.requestTimeout))
            let body = try await response.body.collect(upTo: 16 * 1024 * 1024)
            return (Int(response.status.code), response.headers, String(buffer: body))
        } catch {
            throw .unavailable(String(describing: error), retryAfter: nil)
        }
    }

    static func errorMessage(in body: String) -> String {
        struct ErrorBody: Decodable {
            var error: String?
            var message: String?
        }
        if let decoded = try? JSONDecoder().decode(ErrorBody.self, from: Data(body.utf8)),
            let message = decoded.error ?? decoded.message
        {
            return message
        }
        return String(body.prefix(500))
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// An InfluxQL identifier in double quotes.
    public static func quoteIdentifier(_ name: String) -> String {
        "\""
            + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }

    /// An InfluxQL string literal in single quotes (backslash, quote and newline escaped: a raw
    /// newline would end the statement in a parse error).
    public static func quoteString(_ text: String) -> String {
        "'"
            + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
            .replacingOccurrences(of: "\n", with: "\\n") + "'"
    }
}

extension String {
    fileprivate var trimmingLeadingSpaces: Substring { drop { $0 == " " || $0 == "\n" || $0 == "\t" } }
}

extension Duration {
    fileprivate var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

extension TimeAmount {
    init(_ duration: Duration) { self = duration.timeAmount }
}
