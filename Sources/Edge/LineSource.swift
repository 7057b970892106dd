import Foundation
import Logging

/// Where forwarded readings come from: standard input (a sensor program piping JSON lines into
/// the agent) or a command the agent runs every interval (each line it prints is a reading).
public enum LineSource {
    /// Lines of standard input until it closes, each read when the agent asks for it
    /// (`LineReader`: the pipe holds back a faster writer, and no line takes more than 64 KiB).
    public static func standardInput() -> AsyncStream<String> {
        LineReader().lines
    }

    /// Runs `command` with `/bin/sh -c` every `interval` (measured start to start) and yields
    /// each line as it is printed, until the stream's consumer stops. A run still going after `timeout`
    /// is killed with every process it started (`CommandRun`). A failing, killed or overlong run
    /// is logged with the reason and its error output; the whole lines it printed are still used.
    public static func command(
        _ command: String, every interval: Duration, timeout: Duration, logger: Logger
    ) -> AsyncStream<String> {
        AsyncStream { continuation in
            let task = Task {
                let clock = ContinuousClock()
                var next = clock.now
                let run = CommandRun(command, timeout: timeout)
                while !Task.isCancelled {
                    do {
                        let outcome = try await run.run { continuation.yield($0) }
                        if Task.isCancelled { break }
                        log(outcome, of: run, logger: logger)
                    } catch {
                        logger.error(
                            "reading command could not run", metadata: ["command": "\(command)", "error": "\(error)"])
                    }
                    next = next + interval
                    if next < clock.now { next = clock.now }
                    try? await Task.sleep(until: next, clock: clock)
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    private static func log(_ outcome: CommandRun.Outcome, of run: CommandRun, logger: Logger) {
        var metadata: Logger.Metadata = ["command": "\(run.command)", "lines": "\(outcome.lineCount)"]
        if !outcome.errors.isEmpty { metadata["stderr"] = "\(outcome.errors.suffix(500))" }
        switch outcome.ending {
        case .exited(0): break
        case .exited(let status):
            metadata["status"] = "\(status)"
            logger.warning("reading command failed", metadata: metadata)
        case .signalled(let signal):
            metadata["signal"] = "\(signal)"
            logger.warning("reading command was killed", metadata: metadata)
        case .timedOut:
            metadata["timeout"] = "\(run.timeout)"
            logger.error(
                "reading command did not finish in time: killed with the processes it started", metadata: metadata)
        case .unknown:
            logger.error(
                "reading command could not be ended or its exit was not seen (stuck on a device?); the next run starts anyway",
                metadata: metadata)
        }
        if outcome.outputCut {
            logger.warning(
                "reading command printed more than \(run.maxOutput >> 20) MiB in one run: the rest was dropped",
                metadata: metadata)
        }
    }

}
