import Foundation

/// A throwaway certificate authority and a certificate it signed for `localhost` and
/// 127.0.0.1, made with openssl in a folder of their own, plus a second CA that signed nothing
/// here (a client trusting only it must refuse the server). For the TLS tests.
public struct TestCertificates: Sendable {
    public let directory: URL
    public var caFile: String { directory.appendingPathComponent("ca.pem").path }
    public var otherCAFile: String { directory.appendingPathComponent("other-ca.pem").path }
    public var serverCertificate: String { directory.appendingPathComponent("server.pem").path }
    public var serverKey: String { directory.appendingPathComponent("server.key").path }
    public var clientCertificate: String { directory.appendingPathComponent("client.pem").path }
    public var clientKey: String { directory.appendingPathComponent("client.key").path }

    public static func make() throws -> TestCertificates {
        let certificates = TestCertificates(directory: try TestPaths.scratch("tls"))
        try certificates.generate()
        return certificates
    }

    private func generate() throws {
        let extensions = directory.appendingPathComponent("server.ext")
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(to: extensions, atomically: true, encoding: .utf8)
        for (name, subject) in [("ca", "MOBY test CA"), ("other-ca", "MOBY other CA")] {
            try openssl([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=\(subject)",
                "-keyout", "\(name).key", "-out", "\(name).pem",
            ])
        }
        for (name, subject) in [("server", "localhost"), ("client", "moby-test-client")] {
            try openssl([
                "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=\(subject)", "-keyout", "\(name).key",
                "-out", "\(name).csr",
            ])
            try openssl(
                [
                    "x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                    "-days", "2", "-out", "\(name).pem",
                ] + (name == "server" ? ["-extfile", "server.ext"] : []))
        }
    }

    private func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServiceProcess.resolve("openssl"))
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestServiceError.missing("openssl \(arguments.joined(separator: " ")) failed")
        }
    }
}
