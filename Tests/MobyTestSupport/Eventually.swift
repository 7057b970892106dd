import Testing

/// A wait that ran out of time; thrown after the issue was recorded, so the test stops there.
public struct TimedOut: Error, CustomStringConvertible {
    public var what: String
    public var timeout: Duration
    public var description: String { "timed out after \(timeout) waiting for \(what)" }
}

/// Polls `condition` every `interval` until it holds. When `timeout` passes first, records an
/// issue at the caller and throws `TimedOut`: a wait never ends quietly.
public func eventually(
    _ what: String, timeout: Duration = .seconds(10), interval: Duration = .milliseconds(10),
    sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async throws -> Bool
) async throws {
    _ = try await eventuallyValue(what, timeout: timeout, interval: interval, sourceLocation: sourceLocation) {
        try await condition() ? true : nil
    }
}

/// Polls `probe` every `interval` until it returns a value, and returns it. When `timeout`
/// passes first, records an issue at the caller and throws `TimedOut`.
public func eventuallyValue<Value>(
    _ what: String, timeout: Duration = .seconds(10), interval: Duration = .milliseconds(10),
    sourceLocation: SourceLocation = #_sourceLocation, _ probe: () async throws -> Value?
) async throws -> Value {
    ExecutorTicker.ensureRunning()
    let deadline = ContinuousClock.now + timeout
    while true {
        if let value = try await probe() { return value }
        guard ContinuousClock.now < deadline else {
            let error = TimedOut(what: what, timeout: timeout)
            // Where every thread stood: a rare stall then explains itself in a CI log.
            Issue.record("\(error); \(ThreadDump.write(label: what))", sourceLocation: sourceLocation)
            throw error
        }
        try await Task.sleep(for: interval)
    }
}
