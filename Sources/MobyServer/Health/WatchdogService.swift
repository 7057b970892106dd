import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Keeps systemd's watchdog (`WatchdogSec=`) fed while the server works: every half interval it
/// sends `WATCHDOG=1`, but only if each event loop (ingest, HTTP) ran a probe since the last
/// time. A loop that hangs (a deadlock, a blocking call) stops the pings, and systemd kills and
/// restarts the server; nothing is lost, since unacknowledged readings are redelivered. A
/// pipeline that waits for InfluxDB or the broker still answers and is not restarted: that
/// would not help, and would use up the unit's start limit. On shutdown it sends `STOPPING=1`
/// (systemd then stops watching and applies `TimeoutStopSec=`): it is the last of the server's
/// own services, so it hears of the shutdown right after HTTP has drained (Hummingbird adds its
/// HTTP server after them), and it pings until then.
struct WatchdogService: Service {
    let notifier: SystemdNotifier
    /// How long systemd waits for a ping; nil: no watchdog, only `STOPPING=1`.
    let interval: Duration?
    let loops: [any EventLoop]
    let logger: Logger

    func run() async throws {
        do {
            try await withGracefulShutdownHandler {
                try await cancelWhenGracefulShutdown {
                    guard let interval else { return try await gracefulShutdown() }
                    try await feed(every: interval / 2)
                }
            } onGracefulShutdown: {
                send("STOPPING=1")
            }
        } catch is CancellationError {
            return
        }
    }

    /// Pings every `period` while every loop answered its probe of the period before.
    private func feed(every period: Duration) async throws {
        var probe = Probe(loops)
        var missed = false
        while true {
            try await Task.sleep(for: period)
            let silent = probe.silentLoops
            if silent == 0 {
                if missed { logger.notice("every event loop answers again; watchdog pings resumed") }
                missed = false
                send("WATCHDOG=1")
            } else {
                missed = true
                logger.error(
                    "an event loop did not answer within the watchdog period: no ping; systemd restarts the server if this lasts",
                    metadata: ["silent_loops": "\(silent)", "period": "\(period)"])
            }
            probe = Probe(loops)
        }
    }

    private func send(_ state: String) {
        do {
            try notifier.send(state)
        } catch {
            logger.warning("systemd notification not sent", metadata: ["state": "\(state)", "error": "\(error)"])
        }
    }

    /// One task on each loop; counts those that ran.
    private struct Probe {
        private final class Answers: Sendable {
            let count = Atomic<Int>(0)
        }
        private let answers = Answers()
        private let expected: Int

        init(_ loops: [any EventLoop]) {
            expected = loops.count
            for loop in loops {
                loop.execute { [answers] in answers.count.add(1, ordering: .relaxed) }
            }
        }

        var silentLoops: Int { expected - answers.count.load(ordering: .relaxed) }
    }
}
