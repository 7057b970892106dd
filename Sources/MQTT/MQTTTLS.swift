import NIOCore
import NIOSSL

/// TLS for the broker connection (`mqtts://`): the broker's certificate is verified against
/// `caFile` (or the system's trust store), and its name against the host; a client certificate
/// is presented when both `certificateFile` and `keyFile` are set.
public struct MQTTTLS: Sendable, Equatable {
    /// PEM file of the certificate authorities trusted for the broker; nil: the system's.
    public var caFile: String?
    /// PEM client certificate (chain) and its private key, for brokers that ask for one.
    public var certificateFile: String?
    public var keyFile: String?

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }

    /// Loads the files once; a missing or unreadable one is an error naming it.
    public func makeContext() throws(MQTTConfigurationError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        do {
            if let caFile {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            }
            switch (certificateFile, keyFile) {
            case (let certificate?, let key?):
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            case (nil, nil): break
            default:
                throw MQTTConfigurationError.invalidTLS("a client certificate needs both its file and its key file")
            }
            return try NIOSSLContext(configuration: configuration)
        } catch let error as MQTTConfigurationError {
            throw error
        } catch {
            throw .invalidTLS(
                "cannot load the TLS files (CA \(caFile ?? "system"), certificate \(certificateFile ?? "none"), key \(keyFile ?? "none")): \(error)"
            )
        }
    }
}
