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
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (link, linkCount) in zip(links, shares()) {
                    group.addTask { try await link.client.run() }
                    group.addTask(executorPreference: link.executor) { try await link.agent.drain() }
                    if let forwarding {
                        group.addTask(executorPreference: link.executor) {
                            try await link.agent.forward(forwarding.lines, defaultDeviceID: forwarding.defaultDeviceID)
                        }
                    } else if count == 0 || linkCount > 0 {
                        let linkRate = rate * Double(link.devices.count) / Double(simulatedTotal)
                        group.addTask(executorPreference: link.executor) {
                            try await link.agent.generate(devices: link.devices, rate: linkRate, count: linkCount)
                        }
                    }
                }
                if report {
                    group.addTask {
                        await SensorAgent.report(agents, every: .seconds(10), terminal: terminal, logger: logger)
                    }
                }
                for agent in agents { try await agent.finished() }
                for link in links { await link.client.disconnect() }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            logger.info("stopping; readings not yet acknowledged stay in the outbox")
            for agent in agents { agent.stop() }
        }
    }

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
