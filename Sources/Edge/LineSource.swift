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
    /// each line it prints, until the stream's consumer stops. A failing run is logged with
    /// its exit status and error output; the lines it printed are still used.
    public static func command(_ command: String, every interval: Duration, logger: Logger) -> AsyncStream<String> {
        AsyncStream { continuation in
            let task = Task {
                let clock = ContinuousClock()
                var next = clock.now
                while !Task.isCancelled {
                    do {
                        let (output, status, errors) = try await run(command)
                        if status != 0 {
                            logger.warning(
                                "reading command failed",
                                metadata: [
                                    "command": "\(command)", "status": "\(status)", "stderr": "\(errors.suffix(500))",
                                ])
                        }
                        for line in lines(of: output) { continuation.yield(line) }
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

    /// The non-empty lines of `output`, split at LF bytes with a CR before it dropped (an
    /// Arduino bridge's `println` ends lines with CRLF, which Swift takes as one character, so
    /// splitting the string at "\n" would not split them).
    static func lines(of output: String) -> [String] {
        output.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).compactMap { line in
            let text = line.last == UInt8(ascii: "\r") ? line.dropLast() : line[...]
            return text.isEmpty ? nil : String(decoding: text, as: UTF8.self)
        }
    }

    /// Runs `command` to completion; its standard output, exit status and standard error.
    static func run(_ command: String) async throws -> (String, Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Drain both pipes while the command runs, so a chatty command never blocks on a full pipe.
        async let out = Task.detached { output.fileHandleForReading.readDataToEndOfFile() }.value
        async let err = Task.detached { errors.fileHandleForReading.readDataToEndOfFile() }.value
        let (outData, errData) = await (out, err)
        process.waitUntilExit()
        return (
            String(decoding: outData, as: UTF8.self), process.terminationStatus,
            String(decoding: errData, as: UTF8.self)
        )
    }
}
