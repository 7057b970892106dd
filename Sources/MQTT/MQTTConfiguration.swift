import Backoff

/// Everything an `MQTTClient` needs to know to connect and to bound its memory use.
public struct MQTTConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var clientID: String
    /// False asks the broker for a persistent session (subscriptions and queued messages survive).
    public var cleanSession: Bool
    /// How often the connection must see traffic; 0 disables keep-alive. Sent in whole seconds.
    /// PINGREQ goes out when nothing was sent or nothing was received for this long.
    public var keepAlive: Duration
    /// How long a PINGREQ may go unanswered (nothing at all received from the broker) before
    /// the connection is presumed dead, closed and reconnected: a silent link is noticed within
    /// `keepAlive + pingTimeout`. Zero or less: `keepAlive`.
    public var pingTimeout: Duration
    public var username: String?
    public var password: String?
    public var will: MQTTWill?
    /// Bounds the TCP connect plus the CONNECT/CONNACK exchange.
    public var connectTimeout: Duration
    /// When to try again after a failed or lost connection; nil: `MQTTClient.run()` gives up
    /// (throws) on the first one.
    public var reconnect: Backoff?
    /// Received messages buffered for `MQTTClient.messages`; when full the socket is not read
    /// (backpressure reaches the broker); messages are never dropped.
    public var inboundBufferSize: Int
    /// The largest inbound packet buffered (fixed header included). A larger PUBLISH is discarded
    /// as it arrives and delivered with an `MQTTRefusal` (its first bytes only); any other larger
    /// packet closes the connection.
    public var maxPacketSize: Int
    /// QoS 1/2 publishes awaiting their acknowledgement; `publish` suspends while this many are in flight.
    public var maxInflightOutgoing: Int
    /// After a read that brought few publishes (light traffic), the next read waits this long,
    /// so what arrives meanwhile is read, decoded and handed over as one run: fewer wake-ups and
    /// fewer, larger downstream writes, for at most this much latency. Busy traffic is read at
    /// once. Zero (the default): every read at once.
    public var readGathering: Duration = .zero
    /// TLS (`mqtts://`); nil: plain TCP.
    public var tls: MQTTTLS?

    public init(
        host: String = "127.0.0.1", port: Int = 1883, clientID: String, cleanSession: Bool = true,
        keepAlive: Duration = .seconds(30), pingTimeout: Duration = .seconds(10), username: String? = nil,
        password: String? = nil, will: MQTTWill? = nil, connectTimeout: Duration = .seconds(5),
        reconnect: Backoff? = Backoff(), inboundBufferSize: Int = 4096, maxPacketSize: Int = 1 << 20,
        maxInflightOutgoing: Int = 1000
    ) {
        self.host = host
        self.port = port
        self.clientID = clientID
        self.cleanSession = cleanSession
        self.keepAlive = keepAlive
        self.pingTimeout = pingTimeout
        self.username = username
        self.password = password
        self.will = will
        self.connectTimeout = connectTimeout
        self.reconnect = reconnect
        self.inboundBufferSize = inboundBufferSize
        self.maxPacketSize = maxPacketSize
        self.maxInflightOutgoing = maxInflightOutgoing
    }

    /// Reads host, port and credentials from `mqtt://[user[:password]@]host[:port][/]` (or
    /// `mqtts://`, TLS with the system's trust store until `tls` says otherwise); user and
    /// password are percent-decoded, the port defaults to 1883 (8883 for mqtts).
    public init(url: String, clientID: String) throws(MQTTConfigurationError) {
        let parsed = try MQTTURL(parsing: url)
        self.init(
            host: parsed.host, port: parsed.port, clientID: clientID, username: parsed.username,
            password: parsed.password)
        if parsed.secure { tls = MQTTTLS() }
    }
}

/// Why a broker URL cannot be used.
public enum MQTTConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    case unsupportedScheme(url: String, scheme: String)
    case invalidURL(url: String, reason: String)
    case invalidTLS(String)

    public var description: String {
        switch self {
        case .unsupportedScheme(let url, let scheme):
            "unsupported scheme '\(scheme)' in broker URL '\(MQTTURL.redacted(url))': only mqtt:// and mqtts:// are supported"
        case .invalidURL(let url, let reason): "invalid broker URL '\(MQTTURL.redacted(url))': \(reason)"
        case .invalidTLS(let reason): "TLS: \(reason)"
        }
    }
}

/// The parts of an `mqtt://` URL.
struct MQTTURL: Equatable {
    var host: String
    var port: Int
    var username: String?
    var password: String?
    /// `mqtts://`: TLS.
    var secure = false

    /// The URL with its password replaced by `***`, for messages and logs.
    static func redacted(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@"),
            let colon = rest[..<at].firstIndex(of: ":")
        else { return url }
        return String(url[..<rest.index(after: colon)]) + "***" + String(rest[at...])
    }

    init(parsing url: String) throws(MQTTConfigurationError) {
        func invalid(_ reason: String) -> MQTTConfigurationError { .invalidURL(url: url, reason: reason) }

        guard let schemeEnd = url.firstRange(of: "://") else { throw invalid("missing scheme (mqtt://)") }
        let scheme = url[..<schemeEnd.lowerBound]
        switch scheme.lowercased() {
        case "mqtt": secure = false
        case "mqtts": secure = true
        default: throw .unsupportedScheme(url: url, scheme: String(scheme))
        }
        var authority = url[schemeEnd.upperBound...]
        if let slash = authority.firstIndex(of: "/") {
            guard authority[slash...] == "/" else { throw invalid("paths are not supported") }
            authority = authority[..<slash]
        }
        guard !authority.contains("?"), !authority.contains("#") else {
            throw invalid("query and fragment are not supported")
        }

        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                username = try Self.percentDecode(userInfo[..<colon], url: url)
                password = try Self.percentDecode(userInfo[userInfo.index(after: colon)...], url: url)
            } else {
                username = try Self.percentDecode(userInfo, url: url)
            }
            if username?.isEmpty == true { throw invalid("empty user name") }
        }

        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw invalid("unterminated IPv6 address") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let rest = hostPort[hostPort.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw invalid("unexpected characters after IPv6 address") }
                portText = rest.dropFirst()
            }
        } else if let colon = hostPort.firstIndex(of: ":") {
            host = String(hostPort[..<colon])
            portText = hostPort[hostPort.index(after: colon)...]
        } else {
            host = String(hostPort)
        }
        guard !host.isEmpty else { throw invalid("missing host") }
        port = secure ? 8883 : 1883
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw invalid("port must be a number from 1 to 65535")
            }
            port = value
        }
    }

    private static func percentDecode(_ text: Substring, url: String) throws(MQTTConfigurationError) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw .invalidURL(url: url, reason: "bad percent-encoding in credentials")
            }
            bytes.append(high << 4 | low)
        }
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw .invalidURL(url: url, reason: "credentials are not valid UTF-8")
        }
        return string
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
