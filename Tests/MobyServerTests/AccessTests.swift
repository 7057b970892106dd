import Foundation
import Hummingbird
import HummingbirdTesting
import MobyCore
import MobyTestSupport
import Testing

@testable import MobyServer

/// The HTTP API's guard with authentication on, in-process: every role against every endpoint,
/// sessions, tokens, rate limits, and the actor of alert actions.
@Suite struct AccessTests {
    /// A harness with authentication on and a token per role (the device one for `press-1`).
    struct Guarded {
        let harness: RouterHarness
        let tokens: [Role: String]
        var credentials: CredentialStore { harness.parts.access.credentials! }

        init(_ settings: [String: String] = [:]) async throws {
            harness = try await RouterHarness(["moby.auth": "on"].merging(settings) { $1 })
            let store = harness.parts.access.credentials!
            var tokens: [Role: String] = [:]
            for role in Role.allCases {
                tokens[role] = try await store.createToken(
                    role: role, device: role == .device ? "press-1" : nil, name: "\(role.rawValue)-token"
                ).1
            }
            self.tokens = tokens
        }

        func bearer(_ role: Role?) -> HTTPFields {
            guard let role, let token = tokens[role] else { return [:] }
            return [.authorization: "Bearer \(token)"]
        }
    }

    /// One request and the permission it needs (nil: open to anyone).
    struct Endpoint: CustomStringConvertible {
        var method: HTTPRequest.Method
        var path: String
        var body: String?
        var needs: Permission?
        var description: String { "\(method) \(path)" }
    }

    static func endpoints(alert: Int64) -> [Endpoint] {
        [
            Endpoint(method: .get, path: "/health", needs: nil),
            Endpoint(method: .get, path: "/health/ready", needs: .monitor),
            Endpoint(method: .get, path: "/metrics", needs: .monitor),
            Endpoint(method: .get, path: "/api/v1/console", needs: .read),
            Endpoint(method: .get, path: "/api/v1/alerts", needs: .read),
            Endpoint(method: .get, path: "/api/v1/alerts/\(alert)", needs: .read),
            Endpoint(method: .post, path: "/api/v1/alerts/\(alert)/acknowledge", body: "{}", needs: .act),
            Endpoint(method: .post, path: "/api/v1/alerts/\(alert)/resolve", body: "{}", needs: .act),
            Endpoint(method: .get, path: "/api/v1/devices", needs: .read),
            Endpoint(method: .get, path: "/api/v1/devices/press-1", needs: .read),
            Endpoint(method: .put, path: "/api/v1/devices/press-1", body: #"{"name": "Press 1"}"#, needs: .act),
            Endpoint(method: .get, path: "/api/v1/readings?device=press-1", needs: .read),
            Endpoint(method: .get, path: "/api/v1/catalog", needs: .read),
            Endpoint(method: .get, path: "/ws", needs: .read),
            Endpoint(method: .post, path: "/publish", body: #"{"device_id": "press-1"}"#, needs: .publish),
            Endpoint(method: .get, path: "/api/v1/users", needs: .manage),
            Endpoint(
                method: .post, path: "/api/v1/users", body: #"{"name": "x", "role": "boss", "password": ""}"#,
                needs: .manage),
            Endpoint(method: .delete, path: "/api/v1/users/nobody", needs: .manage),
            Endpoint(method: .get, path: "/api/v1/tokens", needs: .manage),
            Endpoint(method: .post, path: "/api/v1/tokens", body: #"{"role": "device"}"#, needs: .manage),
            Endpoint(method: .delete, path: "/api/v1/tokens/none", needs: .manage),
        ]
    }

    @Test func everyRoleAgainstEveryEndpoint() async throws {
        let guarded = try await Guarded()
        let alert = try await guarded.harness.raiseAlert(device: "press-1")
        try await guarded.harness.test { client in
            for endpoint in Self.endpoints(alert: alert) {
                for role in [nil] + Role.allCases {
                    let answer = try await client.answer(
                        endpoint.path, endpoint.method, json: endpoint.body, headers: guarded.bearer(role))
                    let who = role?.rawValue ?? "no credentials"
                    guard let permission = endpoint.needs else {
                        #expect(answer.status == .ok, "\(endpoint) as \(who): \(answer.status) \(answer.text)")
                        continue
                    }
                    if role == nil {
                        #expect(answer.status == .unauthorized, "\(endpoint) without credentials: \(answer.status)")
                        #expect(answer.headers[.wwwAuthenticate] == #"Bearer realm="moby""#)
                        #expect(answer.json["error"] is String, "\(endpoint): a JSON error body")
                    } else if let role, !role.allows(permission) {
                        #expect(answer.status == .forbidden, "\(endpoint) as \(who): \(answer.status) \(answer.text)")
                        #expect((answer.json["error"] as? String)?.contains(role.rawValue) == true, "\(answer.text)")
                    } else {
                        #expect(
                            ![.unauthorized, .forbidden].contains(answer.status),
                            "\(endpoint) as \(who): \(answer.status) \(answer.text)")
                    }
                }
            }
            // What each allowed role gets is the real answer, not just "not refused".
            let list = try await client.answer("/api/v1/alerts", headers: guarded.bearer(.viewer))
            #expect(list.status == .ok && (list.json["total"] as? Int) == 1)
            let users = try await client.answer("/api/v1/users", headers: guarded.bearer(.admin))
            #expect(users.status == .ok && users.json["users"] is [Any])
            let session = try await client.answer("/api/v1/session", headers: guarded.bearer(.device))
            #expect(session.status == .ok)
            #expect((session.json["user"] as? [String: Any])?["role"] as? String == "device")
            #expect(try await client.answer("/api/v1/session").status == .unauthorized)
            // Default-deny: a path of the API no route answers is 401 without credentials.
            let unknown = try await client.answer("/api/v1/nowhere")
            #expect(unknown.status == .unauthorized)
            #expect(try await client.answer("/api/v1/nowhere", headers: guarded.bearer(.viewer)).status == .notFound)
        }
    }

    @Test func aDeviceTokenPublishesOnlyForItsOwnDevice() async throws {
        let guarded = try await Guarded()
        let now = RFC3339.format(WallClock.nanoseconds())
        try await guarded.harness.test { client in
            let other = try await client.answer(
                "/publish", .post, json: #"{"device_id": "press-2", "timestamp": "\#(now)", "temperature": 20}"#,
                headers: guarded.bearer(.device))
            #expect(other.status == .forbidden, "\(other.text)")
            #expect((other.json["error"] as? String)?.contains("press-1") == true)
            // Its own device passes the guard (the broker is not there: 503, not 403).
            let own = try await client.answer(
                "/publish", .post, json: #"{"device_id": "press-1", "timestamp": "\#(now)", "temperature": 20}"#,
                headers: guarded.bearer(.device))
            #expect(own.status == .serviceUnavailable, "\(own.text)")
        }
    }

    @Test func loginSessionCookieAndLogout() async throws {
        let guarded = try await Guarded()
        try await guarded.credentials.addUser(name: "alice", role: .operator, password: "correct horse")
        try await guarded.harness.test { client in
            let wrong = try await client.answer(
                "/api/v1/session", .post, json: #"{"name": "alice", "password": "wrong horse"}"#)
            #expect(wrong.status == .unauthorized && wrong.json["error"] as? String == "wrong name or password")
            #expect(wrong.headers[.setCookie] == nil)
            let unknown = try await client.answer(
                "/api/v1/session", .post, json: #"{"name": "mallory", "password": "wrong horse"}"#)
            #expect(unknown.status == .unauthorized && unknown.text == wrong.text, "unknown names look the same")
            let missing = try await client.answer("/api/v1/session", .post, json: #"{"name": "alice"}"#)
            #expect(missing.status == .unprocessableContent && missing.fieldsInError == ["password"])
            #expect(try await client.answer("/api/v1/session", .post, json: "[1").status == .badRequest)

            let login = try await client.answer(
                "/api/v1/session", .post, json: #"{"name": "alice", "password": "correct horse"}"#)
            #expect(login.status == .ok, "\(login.text)")
            #expect((login.json["user"] as? [String: Any])?["role"] as? String == "operator")
            let cookie = try #require(login.headers[.setCookie])
            for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
                #expect(cookie.contains(attribute), "\(cookie)")
            }
            #expect(!cookie.contains("Secure"), "plain HTTP here")
            let pair = try #require(cookie.split(separator: ";").first.map(String.init))
            let me = try await client.answer("/api/v1/session", headers: [.cookie: pair])
            #expect(me.status == .ok && (me.json["user"] as? [String: Any])?["name"] as? String == "alice")
            #expect(me.json["expires"] is String)
            #expect(try await client.answer("/api/v1/alerts", headers: [.cookie: pair]).status == .ok)
            #expect(try await client.answer("/api/v1/users", headers: [.cookie: pair]).status == .forbidden)

            let logout = try await client.answer("/api/v1/session", .delete, headers: [.cookie: pair])
            #expect(logout.status == .noContent)
            #expect(logout.headers[.setCookie]?.contains("Max-Age=0") == true)
            let after = try await client.answer("/api/v1/alerts", headers: [.cookie: pair])
            #expect(after.status == .unauthorized, "a logged-out session is gone")
        }
    }

    @Test func operatorsActAsThemselvesWhateverTheBodySays() async throws {
        let guarded = try await Guarded()
        try await guarded.credentials.addUser(name: "alice", role: .operator, password: "correct horse")
        let alert = try await guarded.harness.raiseAlert(device: "press-1")
        try await guarded.harness.test { client in
            let login = try await client.answer(
                "/api/v1/session", .post, json: #"{"name": "alice", "password": "correct horse"}"#)
            let pair = try #require(login.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            let acknowledged = try await client.answer(
                "/api/v1/alerts/\(alert)/acknowledge", .post, json: #"{"actor": "mallory\u0007", "note": "on it"}"#,
                headers: [.cookie: pair])
            #expect(acknowledged.status == .ok, "\(acknowledged.text)")
            let resolved = try await client.answer(
                "/api/v1/alerts/\(alert)/resolve", .post, json: #"{"note": "done"}"#,
                headers: guarded.bearer(.operator))
            #expect(resolved.status == .ok, "\(resolved.text)")
            let detail = try await client.answer("/api/v1/alerts/\(alert)", headers: guarded.bearer(.viewer))
            let history = try #require(detail.json["history"] as? [[String: Any]])
            #expect(history.compactMap { $0["actor"] as? String } == ["moby", "alice", "operator-token"])
        }
    }

    @Test func failedLoginsAreLimitedPerAddressAndName() async throws {
        let guarded = try await Guarded(["moby.login.attempts.per.minute": "3"])
        try await guarded.credentials.addUser(name: "alice", role: .viewer, password: "correct horse")
        try await guarded.credentials.addUser(name: "bob", role: .viewer, password: "battery staple")
        try await guarded.harness.test { client in
            // Right passwords do not count: more than the limit in a row all pass.
            for _ in 0..<5 {
                let right = try await client.answer(
                    "/api/v1/session", .post, json: #"{"name": "bob", "password": "battery staple"}"#)
                #expect(right.status == .ok, "\(right.text)")
            }
            for _ in 0..<3 {
                let wrong = try await client.answer(
                    "/api/v1/session", .post, json: #"{"name": "alice", "password": "guess guess"}"#)
                #expect(wrong.status == .unauthorized)
            }
            let limited = try await client.answer(
                "/api/v1/session", .post, json: #"{"name": "ALICE", "password": "correct horse"}"#)
            #expect(limited.status == .tooManyRequests, "even the right password waits: \(limited.text)")
            let retry = Int(limited.headers[.retryAfter] ?? "") ?? 0
            #expect((1...20).contains(retry), "Retry-After \(retry)")
            // In-process requests have no peer address.
            #expect(
                limited.json["error"] as? String
                    == "too many failed logins for 'ALICE' from unknown; try again in \(retry) s")
            let other = try await client.answer(
                "/api/v1/session", .post, json: #"{"name": "bob", "password": "battery staple"}"#)
            #expect(other.status == .ok, "another user is not slowed down")
        }
    }

    @Test func guessesSentAtOnceCannotPassTheLimit() async throws {
        let guarded = try await Guarded(["moby.login.attempts.per.minute": "3"])
        try await guarded.credentials.addUser(name: "alice", role: .viewer, password: "correct horse")
        try await guarded.harness.test { client in
            // Each attempt takes its token before bcrypt runs: ten at once, three are checked.
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<10 {
                    group.addTask {
                        try await client.answer(
                            "/api/v1/session", .post, json: #"{"name": "alice", "password": "guess \#(index)xx"}"#
                        ).status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            // Checked (401), turned away by the limit (429), or while every password check the
            // server allows at once was under way (503, which costs no attempt).
            #expect(statuses.allSatisfy { [.unauthorized, .tooManyRequests, .serviceUnavailable].contains($0) })
            var checked = statuses.filter { $0 == .unauthorized }.count
            // One at a time until the limit answers: three checks in all, however they came.
            while true {
                let wrong = try await client.answer(
                    "/api/v1/session", .post, json: #"{"name": "alice", "password": "one more guess"}"#)
                if wrong.status == .tooManyRequests { break }
                #expect(wrong.status == .unauthorized, "\(wrong.text)")
                checked += 1
                if checked > 3 { break }
            }
            #expect(checked == 3, "\(statuses)")
        }
    }

    @Test func oneAddressCannotTryManyNames() async throws {
        // 2 per name and address, so 8 per address.
        let guarded = try await Guarded(["moby.login.attempts.per.minute": "2"])
        try await guarded.harness.test { client in
            for index in 0..<8 {
                let wrong = try await client.answer(
                    "/api/v1/session", .post, json: #"{"name": "user\#(index)", "password": "spring2026"}"#)
                #expect(wrong.status == .unauthorized, "\(index): \(wrong.text)")
            }
            let limited = try await client.answer(
                "/api/v1/session", .post, json: #"{"name": "user8", "password": "spring2026"}"#)
            #expect(limited.status == .tooManyRequests)
            #expect(
                (limited.json["error"] as? String)?.hasPrefix("too many failed logins from unknown;") == true,
                "\(limited.text)")
        }
    }

    @Test func theLoginLimitKnowsTheClientsAddress() async throws {
        let guarded = try await Guarded(["moby.login.attempts.per.minute": "1"])
        try await Application(router: buildRouter(guarded.harness.parts)).test(.live) { client in
            _ = try await client.answer(
                "/api/v1/session", .post, json: #"{"name": "carol", "password": "guess guess"}"#)
            let limited = try await client.answer(
                "/api/v1/session", .post, json: #"{"name": "carol", "password": "guess guess"}"#)
            #expect(limited.status == .tooManyRequests)
            #expect(
                limited.json["error"] as? String
                    == "too many failed logins for 'carol' from 127.0.0.1; try again in \(limited.headers[.retryAfter] ?? "?") s"
            )
        }
    }

    @Test func userNamesInPathsArePercentDecoded() async throws {
        let guarded = try await Guarded()
        try await guarded.credentials.addUser(name: "alice@plant", role: .viewer, password: "correct horse")
        try await guarded.credentials.addUser(name: "김민지", role: .viewer, password: "correct horse")
        try await guarded.harness.test { client in
            for path in ["alice%40plant", "%EA%B9%80%EB%AF%BC%EC%A7%80"] {
                let removed = try await client.answer("/api/v1/users/\(path)", .delete, headers: guarded.bearer(.admin))
                #expect(removed.status == .noContent, "\(path): \(removed.text)")
            }
            #expect(try await guarded.credentials.users().isEmpty)
            let broken = try await client.answer("/api/v1/users/%E0%A4", .delete, headers: guarded.bearer(.admin))
            #expect(broken.status == .badRequest)
            #expect(broken.fieldsInError == ["name"], "\(broken.text)")
        }
    }

    @Test func passwordsWithControlCharactersAreRefused() async throws {
        let guarded = try await Guarded()
        try await guarded.harness.test { client in
            // Eight NULs: bcrypt would have seen an empty password.
            let created = try await client.answer(
                "/api/v1/users", .post,
                json:
                    #"{"name": "bob", "role": "admin", "password": "\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000"}"#,
                headers: guarded.bearer(.admin))
            #expect(created.status == .unprocessableContent, "\(created.text)")
            #expect(created.fieldsInError == ["password"], "\(created.text)")
            #expect(try await guarded.credentials.users().isEmpty)
        }
    }

    @Test func publishIsLimitedPerCredential() async throws {
        let guarded = try await Guarded(["moby.publish.rate": "1"])
        try await guarded.harness.test { client in
            // Burst of two, then 429; refused readings count too (the limit guards the server).
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<3 {
                statuses.append(
                    try await client.answer("/publish", .post, json: "{}", headers: guarded.bearer(.admin)).status)
            }
            #expect(statuses == [.unprocessableContent, .unprocessableContent, .tooManyRequests])
            let limited = try await client.answer("/publish", .post, json: "{}", headers: guarded.bearer(.admin))
            #expect(limited.headers[.retryAfter] == "1")
            let other = try await client.answer("/publish", .post, json: "{}", headers: guarded.bearer(.device))
            #expect(other.status == .unprocessableContent, "another credential is not slowed down")
            let metrics = try await client.answer("/metrics", headers: guarded.bearer(.viewer))
            #expect(metric("moby_http_publish_limited_total", in: metrics.text) == 2)
        }
    }

    @Test func revokedTokensAndRemovedUsersStopAtTheNextRequest() async throws {
        let guarded = try await Guarded()
        try await guarded.credentials.addUser(name: "alice", role: .operator, password: "correct horse")
        try await guarded.harness.test { client in
            let created = try await client.answer(
                "/api/v1/tokens", .post, json: #"{"role": "viewer", "name": "grafana"}"#,
                headers: guarded.bearer(.admin))
            #expect(created.status == .created, "\(created.text)")
            let secret = try #require(created.json["secret"] as? String)
            let id = try #require((created.json["token"] as? [String: Any])?["id"] as? String)
            #expect(secret.hasPrefix("moby_"))
            let listed = try await client.answer("/api/v1/tokens", headers: guarded.bearer(.admin))
            #expect(!listed.text.contains(secret), "secrets are never listed")
            #expect(
                try await client.answer("/api/v1/alerts", headers: [.authorization: "Bearer \(secret)"]).status == .ok)
            #expect(
                try await client.answer("/api/v1/tokens/\(id)", .delete, headers: guarded.bearer(.admin)).status
                    == .noContent)
            let revoked = try await client.answer("/api/v1/alerts", headers: [.authorization: "Bearer \(secret)"])
            #expect(revoked.status == .unauthorized && revoked.text.contains("revoked"))

            let login = try await client.answer(
                "/api/v1/session", .post, json: #"{"name": "alice", "password": "correct horse"}"#)
            let pair = try #require(login.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            #expect(
                try await client.answer("/api/v1/users/alice", .delete, headers: guarded.bearer(.admin)).status
                    == .noContent)
            #expect(try await client.answer("/api/v1/alerts", headers: [.cookie: pair]).status == .unauthorized)
        }
    }

    @Test func adminsManageUsersAndTokensWithClearErrors() async throws {
        let guarded = try await Guarded()
        try await guarded.harness.test { client in
            let admin = guarded.bearer(.admin)
            let added = try await client.answer(
                "/api/v1/users", .post, json: #"{"name": "carol", "role": "viewer", "password": "long enough"}"#,
                headers: admin)
            #expect(added.status == .created && (added.json["user"] as? [String: Any])?["name"] as? String == "carol")
            let again = try await client.answer(
                "/api/v1/users", .post, json: #"{"name": "carol", "role": "viewer", "password": "long enough"}"#,
                headers: admin)
            #expect(again.status == .conflict)
            let bad = try await client.answer(
                "/api/v1/users", .post, json: #"{"name": "dave smith", "role": "device", "password": "short"}"#,
                headers: admin)
            #expect(bad.status == .unprocessableContent && bad.fieldsInError == ["role"], "\(bad.text)")
            let badName = try await client.answer(
                "/api/v1/users", .post, json: #"{"name": "dave smith", "role": "viewer", "password": "long enough"}"#,
                headers: admin)
            #expect(badName.status == .unprocessableContent && badName.fieldsInError == ["name"])
            let short = try await client.answer(
                "/api/v1/users", .post, json: #"{"name": "dave", "role": "viewer", "password": "short"}"#,
                headers: admin)
            #expect(short.status == .unprocessableContent && short.fieldsInError == ["password"])
            let noDevice = try await client.answer(
                "/api/v1/tokens", .post, json: #"{"role": "device"}"#, headers: admin)
            #expect(noDevice.status == .unprocessableContent && noDevice.fieldsInError == ["device"])
            let badDevice = try await client.answer(
                "/api/v1/tokens", .post, json: #"{"role": "device", "device": "a b"}"#, headers: admin)
            #expect(badDevice.status == .unprocessableContent && badDevice.fieldsInError == ["device"])
            let tiedViewer = try await client.answer(
                "/api/v1/tokens", .post, json: #"{"role": "viewer", "device": "press-1"}"#, headers: admin)
            #expect(tiedViewer.status == .unprocessableContent)
            let users = try await client.answer("/api/v1/users", headers: admin)
            let names = (users.json["users"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
            #expect(names == ["carol"])
            #expect(!users.text.contains("$2"), "no password hash is ever answered")
        }
    }

    @Test func monitoringCanBeOpenedAndAuthTurnedOff() async throws {
        let monitored = try await Guarded(["moby.auth.open.monitoring": "true"])
        try await monitored.harness.test { client in
            let metrics = try await client.answer("/metrics")
            #expect(metrics.status == .ok)
            #expect(try await client.answer("/health/ready").status == .serviceUnavailable)
            #expect(try await client.answer("/api/v1/alerts").status == .unauthorized)
        }
        let off = try await RouterHarness(["moby.auth": "off"])
        #expect(off.parts.access.credentials == nil)
        try await off.test { client in
            let alerts = try await client.answer("/api/v1/alerts")
            #expect(alerts.status == .ok)
            let me = try await client.answer("/api/v1/session")
            #expect((me.json["user"] as? [String: Any])?["name"] as? String == "anonymous")
            let login = try await client.answer("/api/v1/session", .post, json: #"{"name": "a", "password": "b"}"#)
            #expect(login.status == .conflict && login.text.contains("MOBY_AUTH=off"))
        }
    }
}

/// Every value that reaches an InfluxQL statement is validated first: hostile device ids,
/// metric names and times are refused with 400 naming the parameter, before any query.
@Suite struct InfluxQLInjectionTests {
    @Test func hostileQueryParametersAreRefusedBeforeAnyQuery() async throws {
        let harness = try await RouterHarness()
        let attempts: [(query: String, field: String)] = [
            ("device=a'%20OR%20'1'='1", "device"),
            ("device=x';%20DROP%20DATABASE%20moby;--", "device"),
            ("device=/.*/", "device"),
            ("device=a%22%20OR%201=1", "device"),
            ("device=a%23comment", "device"),
            ("device=press-1&metric=temperature%22%20FROM%20x;--", "metric"),
            ("device=press-1&metric=/.*/", "metric"),
            ("device=press-1&from=0;%20DROP%20DATABASE%20moby", "from"),
            ("device=press-1&to=now()%20-%201h", "to"),
            ("device=press-1&points=1;DROP", "points"),
        ]
        try await harness.test { client in
            for attempt in attempts {
                let answer = try await client.answer("/api/v1/readings?\(attempt.query)")
                #expect(answer.status == .badRequest, "\(attempt.query): \(answer.status) \(answer.text)")
                #expect(answer.fieldsInError.contains(attempt.field), "\(attempt.query): \(answer.text)")
            }
        }
    }
}
