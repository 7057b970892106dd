import Foundation
import Hummingbird
import Logging
import MobyServer
import ServiceLifecycle

/// Entry point: parse flags and environment, build the application, run until SIGTERM/SIGINT.
@main
struct MobyServerMain {
    static func main() async {
        if let first = CommandLine.arguments.dropFirst().first, ["users", "tokens"].contains(first) {
            await CredentialCommands.main(Array(CommandLine.arguments.dropFirst()))
            return
        }
        let parsed: ServerCommandLine.Parsed
        let configuration: ServerConfiguration
        do {
            parsed = try ServerCommandLine.parse(
                Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
            guard case .run(let reader) = parsed else {
                if case .help(let text) = parsed { print(text) }
                return
            }
            configuration = try ServerConfiguration(reader: reader)
        } catch {
            FileHandle.standardError.write(Data("moby-server: \(error)\n".utf8))
            exit(64)
        }
        var logger = Logger(label: "moby-server")
        logger.logLevel = configuration.logLevel
        do {
            let app = try await buildApplication(configuration: configuration, logger: logger)
            var group = ServiceGroupConfiguration(
                services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            // The last resort: HTTP has its own bound and the writer its grace period; whatever
            // still runs after both (and a margin) is cancelled. Nothing unacknowledged is lost:
            // the broker redelivers it to the next session.
            group.maximumGracefulShutdownDuration = configuration.http.shutdownTimeout + .seconds(20)
            group.maximumCancellationDuration = .seconds(5)
            try await ServiceGroup(configuration: group).run()
        } catch {
            logger.critical("moby-server stopped: \(error)")
            exit(1)
        }
    }
}
