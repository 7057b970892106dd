import MQTT
import NIOCore
import NIOPosix

/// The one event loop the ingest path lives on: the MQTT connection, the InfluxDB write
/// connection, and (as their tasks' executor preference) ingest and the batch writer.
///
/// Why: at a factory's everyday rate each run of readings crossed threads about seven times
/// (socket read, ingest, writer, InfluxDB request, its answer, the commit, the PUBACKs), and
/// waking a sleeping thread for each cost more CPU than the readings themselves. On one loop a
/// run costs two wake-ups: the read and InfluxDB's answer.
struct IngestLoop: Sendable {
    let executor: EventLoopTaskExecutor
    var eventLoop: any EventLoop { executor.eventLoop }

    init(eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next()) {
        self.executor = EventLoopTaskExecutor(eventLoop: eventLoop)
    }

    /// Runs `body` with its tasks (and the default actors they call) on the ingest loop.
    func run<Value: Sendable>(_ body: () async throws -> Value) async rethrows -> Value {
        try await withTaskExecutorPreference(executor, operation: body)
    }
}
