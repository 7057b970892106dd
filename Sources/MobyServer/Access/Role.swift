/// What a credential may do. `viewer` reads, `operator` also acts on alerts and devices,
/// `admin` also manages credentials and may publish for any device; `device` only publishes
/// readings, and only its own.
public enum Role: String, CaseIterable, Codable, Sendable {
    case viewer
    case `operator`
    case admin
    case device

    /// Whether this role grants `permission`.
    func allows(_ permission: Permission) -> Bool {
        switch (self, permission) {
        case (.admin, _): true
        case (.operator, .read), (.operator, .monitor), (.operator, .act): true
        case (.viewer, .read), (.viewer, .monitor): true
        case (.device, .publish): true
        default: false
        }
    }

    /// The roles, for error messages and help texts.
    static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// What a route needs; `buildRouter` puts each route behind one.
enum Permission: String, Sendable {
    /// Read the API and the `/ws` alert stream.
    case read
    /// `/health/ready` and `/metrics` (unless configured open).
    case monitor
    /// Acknowledge and resolve alerts, edit devices.
    case act
    /// Manage users and tokens.
    case manage
    /// `POST /publish` (a device only for itself).
    case publish
}

/// Who is asking: the user of a session, the owner of a token, or nobody in particular when
/// authentication is off.
public struct Principal: Sendable, Equatable {
    public enum Credential: Sendable, Equatable {
        case session
        case token(id: String)
        /// Authentication is off (`MOBY_AUTH=off`).
        case none
    }

    /// The user's or token's name; recorded as the actor of alert actions.
    public var name: String
    public var role: Role
    /// The only device a `device` token may publish for.
    public var device: String?
    public var credential: Credential
    /// When a session ends (Unix nanoseconds); nil for tokens.
    public var expiresAt: Int64?

    public init(name: String, role: Role, device: String?, credential: Credential, expiresAt: Int64? = nil) {
        self.name = name
        self.role = role
        self.device = device
        self.credential = credential
        self.expiresAt = expiresAt
    }

    /// What rate limits count by: the token, the user, or everyone together.
    var rateKey: String {
        switch credential {
        case .token(let id): "token:" + id
        case .session: "user:" + name
        case .none: "anonymous"
        }
    }

    /// Everyone, when authentication is off.
    static let anonymous = Principal(name: "anonymous", role: .admin, device: nil, credential: .none)
}
