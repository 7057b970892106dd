import AsyncHTTPClient
import NIOSSL
import Synchronization

/// HTTP clients for InfluxDB over `https://` with a private CA: one per CA file, made on first
/// use and kept for the life of the process (an `HTTPClient` must be shut down before it is
/// released; these never are released, so none is left running by accident either).
enum InfluxHTTPClients {
    private static let clients = Mutex<[String: HTTPClient]>([:])

    /// The client trusting only the CAs of `caFile` (loaded when a connection is made; the
    /// server's configuration checks the file at start).
    static func trusting(_ caFile: String) -> HTTPClient {
        clients.withLock { clients in
            if let client = clients[caFile] { return client }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(caFile)
            tls.minimumTLSVersion = .tlsv12
            var configuration = HTTPClient.Configuration.singletonConfiguration
            configuration.tlsConfiguration = tls
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            clients[caFile] = client
            return client
        }
    }
}
