import Edge
import Logging
import MQTT
import ServiceLifecycle
import Simulation

/// One run of the agent as a service: for every MQTT link its client, the outbox drain, and
/// the simulation or forwarding that fills the outbox, plus progress reports. It returns when
/// `count` readings were generated and acknowledged, or, on graceful shutdown, as soon as the
/// agents stopped (what was not acknowledged stays in the outbox for the next start).
struct SensorRun: Service {
    /// One MQTT connection with its agent and the simulated devices it carries.
    struct Link: Sendable {
        var agent: SensorAgent
        var client: MQTTClient
        /// The client's event loop, where the link's drain and generator run.
        var executor: EventLoopTaskExecutor
        var devices: [SimulatedDevice]
    }

    var links: [Link]
    /// Readings to generate over all links (0: until stopped).
    var count: Int
    /// Readings per second over all links.
    var rate: Double
    /// Forward these lines (and the default device id) instead of simulating.
    var forwarding: (lines: AsyncStream<String>, defaultDeviceID: String?)?
    var report: Bool
    var terminal: Bool
    var logger: Logger

    func run() async throws {
        let agents = links.map(\.agent)
        try await withGracefulShutdownHandler {
            // Every task reports how it ended: the run is over when the agents finished, and the
            // first task that fails ends it with its error (a drain that died on an outbox error
            // once left the agent generating into an outbox nobody published, without a word).
            try await withThrowingTaskGroup(of: Ended.self) { group in
                for (index, (link, linkCount)) in zip(links, shares()).enumerated() {
                    group.addTask {
                        try await link.client.run()
                        return .other
                    }
                    group.addTask(executorPreference: link.executor) {
                        do {
                            try await link.agent.drain()
                        } catch  where !(error is CancellationError) {
                            throw SensorRunError.drain(link: index, error)
                        }
                        return .other
                    }
                    if let forwarding {
                        group.addTask(executorPreference: link.executor) {
                            try await link.agent.forward(forwarding.lines, defaultDeviceID: forwarding.defaultDeviceID)
                            return .other
                        }
                    } else if count == 0 || linkCount > 0 {
                        let linkRate = rate * Double(link.devices.count) / Double(simulatedTotal)
                        group.addTask(executorPreference: link.executor) {
                            try await link.agent.generate(devices: link.devices, rate: linkRate, count: linkCount)
                            return .other
                        }
                    } else {
                        // Its share of --count rounded down to nothing: done once its outbox is empty.
                        link.agent.nothingToGenerate()
                    }
                }
                if report {
                    group.addTask {
                        await SensorAgent.report(agents, every: .seconds(10), terminal: terminal, logger: logger)
                        return .other
                    }
                }
                group.addTask {
                    for agent in agents { try await agent.finished() }
                    return .agentsFinished
                }
                while let ended = try await group.next() {
                    if ended == .agentsFinished { break }
                }
                for link in links { await link.client.disconnect() }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            logger.info("stopping; readings not yet acknowledged stay in the outbox")
            for agent in agents { agent.stop() }
        }
    }

    private enum Ended: Sendable { case agentsFinished, other }

    private var simulatedTotal: Int { max(1, links.reduce(0) { $0 + $1.devices.count }) }

    /// Each link's part of `count`, by its share of the devices; the last link takes the rest.
    private func shares() -> [Int] {
        var remaining = count
        return links.indices.map { index in
            guard count > 0 else { return 0 }
            let share = Double(links[index].devices.count) / Double(simulatedTotal)
            let part = index == links.count - 1 ? remaining : Int((Double(count) * share).rounded(.down))
            remaining -= part
            return part
        }
    }
}

/// Why a run of the agent ended with an error.
enum SensorRunError: Error, CustomStringConvertible {
    /// Publishing from the outbox failed for good (an outbox that cannot be read or updated):
    /// the agent stops, so that it is restarted and the next start checks the outbox.
    case drain(link: Int, any Error)

    var description: String {
        switch self {
        case .drain(let link, let error):
            "publishing from the outbox of link \(link) failed: \(error); stopping (the next start checks the outbox)"
        }
    }
}
