import NIOCore

/// Who a connection comes from, as the key of the per-client limits (login attempts, open
/// connections): the peer's IP address without the port. An IPv6 peer is keyed by its /64
/// network, since one host usually holds a whole /64 and could take a new address per attempt;
/// an IPv4 peer seen through a dual-stack socket (`::ffff:a.b.c.d`) is keyed by its IPv4
/// address, not lumped with every other IPv4 client.
enum ClientAddress {
    static func key(_ address: SocketAddress?) -> String {
        switch address {
        case nil: return "unknown"
        case .unixDomainSocket: return "local"
        case .v4: return address?.ipAddress ?? "unknown"
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            guard bytes.count == 16 else { return address?.ipAddress ?? "unknown" }
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                return bytes[12..<16].map(String.init).joined(separator: ".")
            }
            let groups = stride(from: 0, to: 8, by: 2).map {
                String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16)
            }
            return groups.joined(separator: ":") + "::/64"
        }
    }
}
