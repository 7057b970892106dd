import Foundation
import Logging

/// The one logger of the tests: quiet (errors only) unless `MOBY_TEST_LOG` names a level, e.g.
/// `MOBY_TEST_LOG=debug swift test --filter IngestTests`.
public func testLogger(_ label: String = "moby-test") -> Logger {
    ExecutorTicker.ensureRunning()
    var logger = Logger(label: label)
    logger.logLevel =
        ProcessInfo.processInfo.environment["MOBY_TEST_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .error
    return logger
}
