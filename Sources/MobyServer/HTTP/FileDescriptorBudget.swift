import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The process's open-file limit (`ulimit -n`) against `moby.http.max.connections`: every
/// connection is a descriptor, and the server needs more for everything else (listening socket,
/// MQTT, the InfluxDB client's pool, SQLite, the spool, refusals that linger). At start the soft
/// limit is raised as far as the hard limit allows; when the connections still do not fit, the
/// maximum is lowered (with a warning) so the server refuses connections instead of failing to
/// accept them, which would also stop /health and the broker reconnecting.
struct FileDescriptorBudget: Equatable {
    /// Descriptors kept for everything but served HTTP connections.
    static let reserve = 256 + ConnectionLimit.maximumLingeringRefusals

    var soft: Int
    var hard: Int

    /// The soft limit to ask for so `maxConnections` fit, when the current one is too low.
    func softLimitWanted(for maxConnections: Int) -> Int? {
        let needed = maxConnections + Self.reserve
        guard soft < needed, soft < hard else { return nil }
        return min(hard, needed)
    }

    /// The connections that fit under the soft limit, at most `requested` (and at least 1).
    func connectionsThatFit(_ requested: Int) -> Int {
        min(requested, max(1, soft - Self.reserve))
    }

    /// Raises the soft limit if that helps and returns the maximum number of connections to use.
    static func fit(maxConnections: Int, logger: Logger) -> Int {
        guard var budget = current() else { return maxConnections }
        if let wanted = budget.softLimitWanted(for: maxConnections) {
            if setSoftLimit(wanted) {
                logger.info("raised the open-file limit", metadata: ["from": "\(budget.soft)", "to": "\(wanted)"])
                budget.soft = wanted
            }
        }
        let fitting = budget.connectionsThatFit(maxConnections)
        if fitting < maxConnections {
            logger.warning(
                "moby.http.max.connections lowered to fit the open-file limit",
                metadata: [
                    "requested": "\(maxConnections)", "using": "\(fitting)", "ulimit_n": "\(budget.soft)",
                    "reserve": "\(reserve)",
                ])
        }
        return fitting
    }

    private static func current() -> FileDescriptorBudget? {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        return FileDescriptorBudget(soft: Int(clamping: limit.rlim_cur), hard: Int(clamping: limit.rlim_max))
    }

    private static func setSoftLimit(_ soft: Int) -> Bool {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return false }
        limit.rlim_cur = rlim_t(soft)
        return setrlimit(resource, &limit) == 0
    }

    #if canImport(Glibc)
        private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
        private static let resource = RLIMIT_NOFILE
    #endif
}
