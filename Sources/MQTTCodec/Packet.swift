@_exported import NIOCore

/// The MQTT protocol revision a codec speaks. Only 3.1.1 exists today; the codec takes this
/// parameter so that MQTT 5 (properties, reason codes) can be added without changing callers.
public enum MQTTProtocolVersion: UInt8, Sendable, Hashable {
    case v311 = 4
}

/// Quality of service of a PUBLISH or a subscription: how hard broker and client try to deliver.
public enum MQTTQoS: UInt8, Sendable, Hashable, Comparable {
    case atMostOnce = 0
    case atLeastOnce = 1
    case exactlyOnce = 2

    public static func < (lhs: MQTTQoS, rhs: MQTTQoS) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The control packet types of MQTT 3.1.1 (the high nibble of the first byte).
public enum MQTTPacketType: UInt8, Sendable, Hashable {
    case connect = 1
    case connack = 2
    case publish = 3
    case puback = 4
    case pubrec = 5
    case pubrel = 6
    case pubcomp = 7
    case subscribe = 8
    case suback = 9
    case unsubscribe = 10
    case unsuback = 11
    case pingreq = 12
    case pingresp = 13
    case disconnect = 14

    /// The fixed-header flags that every packet of this type must carry (PUBLISH has its own).
    var requiredFlags: UInt8 {
        switch self {
        case .pubrel, .subscribe, .unsubscribe: 0b0010
        default: 0
        }
    }
}

/// The answer to a CONNECT: 0 accepts, anything else says why the broker refused.
public enum MQTTConnectReturnCode: UInt8, Sendable, Hashable, CustomStringConvertible {
    case accepted = 0
    case unacceptableProtocolVersion = 1
    case identifierRejected = 2
    case serverUnavailable = 3
    case badUsernameOrPassword = 4
    case notAuthorized = 5

    public var description: String {
        switch self {
        case .accepted: "accepted"
        case .unacceptableProtocolVersion: "unacceptable protocol version"
        case .identifierRejected: "client identifier rejected"
        case .serverUnavailable: "server unavailable"
        case .badUsernameOrPassword: "bad user name or password"
        case .notAuthorized: "not authorized"
        }
    }
}

/// One entry of a SUBACK: the QoS the broker granted for a filter, or its refusal (0x80).
public enum MQTTSubscribeReturnCode: Sendable, Hashable {
    case granted(MQTTQoS)
    case failure

    var rawValue: UInt8 {
        switch self {
        case .granted(let qos): qos.rawValue
        case .failure: 0x80
        }
    }
}

/// The last-will message of a CONNECT: what the broker publishes when the connection dies uncleanly.
public struct MQTTWill: Sendable, Hashable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: MQTTQoS
    public var retain: Bool

    public init(topic: String, payload: [UInt8], qos: MQTTQoS = .atMostOnce, retain: Bool = false) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }
}

/// The fields of a CONNECT packet.
public struct MQTTConnect: Sendable, Hashable {
    public var protocolVersion: MQTTProtocolVersion
    public var cleanSession: Bool
    /// Keep-alive in seconds (0 disables it).
    public var keepAliveSeconds: UInt16
    public var clientID: String
    public var will: MQTTWill?
    public var username: String?
    public var password: [UInt8]?

    public init(
        protocolVersion: MQTTProtocolVersion = .v311, cleanSession: Bool, keepAliveSeconds: UInt16,
        clientID: String, will: MQTTWill? = nil, username: String? = nil, password: [UInt8]? = nil
    ) {
        self.protocolVersion = protocolVersion
        self.cleanSession = cleanSession
        self.keepAliveSeconds = keepAliveSeconds
        self.clientID = clientID
        self.will = will
        self.username = username
        self.password = password
    }
}

/// The fields of a CONNACK packet.
public struct MQTTConnAck: Sendable, Hashable {
    public var sessionPresent: Bool
    public var returnCode: MQTTConnectReturnCode

    public init(sessionPresent: Bool, returnCode: MQTTConnectReturnCode) {
        self.sessionPresent = sessionPresent
        self.returnCode = returnCode
    }
}

/// The fields of a PUBLISH packet. `packetID` is present exactly when `qos` is above 0.
public struct MQTTPublish: Sendable, Hashable {
    public var duplicate: Bool
    public var qos: MQTTQoS
    public var retain: Bool
    public var topic: String
    public var packetID: UInt16?
    public var payload: ByteBuffer
    /// Set by the decoder on a received PUBLISH it refused (the payload then may hold only its
    /// first bytes); ignored by the encoder.
    public var refusal: MQTTRefusal?

    public init(
        topic: String, payload: ByteBuffer, qos: MQTTQoS = .atMostOnce, packetID: UInt16? = nil,
        retain: Bool = false, duplicate: Bool = false, refusal: MQTTRefusal? = nil
    ) {
        self.duplicate = duplicate
        self.qos = qos
        self.retain = retain
        self.topic = topic
        self.packetID = packetID
        self.payload = payload
        self.refusal = refusal
    }
}

/// The fields of a SUBSCRIBE packet.
public struct MQTTSubscribe: Sendable, Hashable {
    public var packetID: UInt16
    public var filters: [MQTTSubscription]

    public init(packetID: UInt16, filters: [MQTTSubscription]) {
        self.packetID = packetID
        self.filters = filters
    }
}

/// A topic filter with the maximum QoS the subscriber wants for it.
public struct MQTTSubscription: Sendable, Hashable {
    public var filter: String
    public var qos: MQTTQoS

    public init(filter: String, qos: MQTTQoS) {
        self.filter = filter
        self.qos = qos
    }
}

/// The fields of a SUBACK packet: one return code per filter of the SUBSCRIBE, in order.
public struct MQTTSubAck: Sendable, Hashable {
    public var packetID: UInt16
    public var returnCodes: [MQTTSubscribeReturnCode]

    public init(packetID: UInt16, returnCodes: [MQTTSubscribeReturnCode]) {
        self.packetID = packetID
        self.returnCodes = returnCodes
    }
}

/// The fields of an UNSUBSCRIBE packet.
public struct MQTTUnsubscribe: Sendable, Hashable {
    public var packetID: UInt16
    public var filters: [String]

    public init(packetID: UInt16, filters: [String]) {
        self.packetID = packetID
        self.filters = filters
    }
}

/// Every MQTT 3.1.1 control packet as a plain value, so the codec and the protocol state can be
/// tested byte for byte without sockets.
public enum MQTTPacket: Sendable, Hashable {
    case connect(MQTTConnect)
    case connack(MQTTConnAck)
    case publish(MQTTPublish)
    case puback(packetID: UInt16)
    case pubrec(packetID: UInt16)
    case pubrel(packetID: UInt16)
    case pubcomp(packetID: UInt16)
    case subscribe(MQTTSubscribe)
    case suback(MQTTSubAck)
    case unsubscribe(MQTTUnsubscribe)
    case unsuback(packetID: UInt16)
    case pingreq
    case pingresp
    case disconnect

    public var type: MQTTPacketType {
        switch self {
        case .connect: .connect
        case .connack: .connack
        case .publish: .publish
        case .puback: .puback
        case .pubrec: .pubrec
        case .pubrel: .pubrel
        case .pubcomp: .pubcomp
        case .subscribe: .subscribe
        case .suback: .suback
        case .unsubscribe: .unsubscribe
        case .unsuback: .unsuback
        case .pingreq: .pingreq
        case .pingresp: .pingresp
        case .disconnect: .disconnect
        }
    }
}
