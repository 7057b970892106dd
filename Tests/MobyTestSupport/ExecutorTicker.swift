/// A timer that fires every 50 ms for as long as the test process runs, started by the helpers
/// most tests use (`eventually`, `testLogger`, `TestPaths.scratch`).
///
/// Why: after a quiet stretch (Swift's worker threads idle out), a test sometimes hung with work
/// queued and no worker thread at all (a thread dump showed only NIO's, Foundation's and
/// libdispatch's manager thread) until some timer fired: Swift Testing's time limit a minute
/// later, or never when the process was exiting. libdispatch seems to lose the wake-up of its
/// worker pool in that window; a timer firing wakes it, so a steady one bounds such a stall to
/// 50 ms and keeps the workers from idling out in the first place. Costs 20 wake-ups a second.
public enum ExecutorTicker {
    private static let started: Void = {
        Task.detached(priority: .high) {
            while true { try? await Task.sleep(for: .milliseconds(50)) }
        }
    }()

    /// Starts the ticker once per process.
    public static func ensureRunning() { started }
}
