#if canImport(Glibc)
    import Glibc
#endif

/// Where systemd listens for a `Type=notify` service's state (`NOTIFY_SOCKET`), and how often it
/// wants to hear that the service is alive (`WatchdogSec=`, passed as `WATCHDOG_USEC`).
public struct SystemdNotification: Sendable, Equatable {
    /// A file system path, or an abstract socket name starting with `@`.
    public var socketPath: String
    /// nil: no watchdog (none configured, or it is meant for another process).
    public var watchdog: Duration?

    public init(socketPath: String, watchdog: Duration? = nil) {
        self.socketPath = socketPath
        self.watchdog = watchdog
    }
}

/// Sends state lines (`READY=1`, `WATCHDOG=1`, `STOPPING=1`, `STATUS=…`) to systemd's
/// notification socket: one datagram each, never blocking (a full socket drops the line, as
/// sd_notify does). Why our own: the protocol is one `sendto`, and libsystemd is not linked.
struct SystemdNotifier: Sendable {
    let socketPath: String

    /// Why a line could not be sent.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Sends `lines` as one datagram.
    func send(_ lines: String) throws(Failure) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        let abstract = path.first == UInt8(ascii: "@")
        if abstract { path[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !path.isEmpty, path.count < capacity else {
            throw Failure(description: "NOTIFY_SOCKET '\(socketPath)' is not a usable socket path")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        // An abstract name is exactly its bytes; a path ends at its terminating zero.
        let length = MemoryLayout<sa_family_t>.size + path.count + (abstract ? 0 : 1)
        let socket = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw Failure(description: "socket(AF_UNIX): \(Self.lastError())") }
        defer { close(socket) }
        let bytes = Array(lines.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                sendto(socket, bytes, bytes.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL), address, socklen_t(length))
            }
        }
        guard sent == bytes.count else {
            throw Failure(description: "sending to NOTIFY_SOCKET '\(socketPath)': \(Self.lastError())")
        }
    }

    private static func lastError() -> String {
        String(cString: strerror(errno))
    }
}
