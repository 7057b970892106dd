/// How many readings it takes to open and to close an anomaly episode, so one noisy sample
/// neither raises nor clears an alert.
public struct Hysteresis: Sendable, Equatable {
    /// Consecutive anomalous readings before an episode starts (and before it escalates).
    public var raiseAfter: Int
    /// Consecutive normal readings before an episode ends.
    public var clearAfter: Int

    public init(raiseAfter: Int = 3, clearAfter: Int = 5) {
        self.raiseAfter = max(1, raiseAfter)
        self.clearAfter = max(1, clearAfter)
    }
}

/// The hysteresis state machine of one device: fed each reading's severity, it says when an
/// anomaly episode starts, escalates from warning to critical, continues and ends. A plain
/// value, so its rules are tested without I/O.
public struct AnomalyEpisode: Sendable, Equatable {
    /// What a reading did to the episode.
    public enum Change: Sendable, Equatable {
        /// An episode started with this severity.
        case raised(Severity)
        /// The open episode reached critical.
        case escalated
        /// Another anomalous reading in the open episode.
        case continued
        /// Enough normal readings in a row: the episode is over.
        case cleared
    }

    /// The open episode's severity; nil while the device is normal.
    public private(set) var severity: Severity?
    /// Anomalous readings in a row, the last one observed included (0 after a normal one).
    public private(set) var anomalousRun = 0
    private var criticalRun = 0
    private var normalRun = 0

    public init(severity: Severity? = nil) {
        self.severity = severity
    }

    public var isOpen: Bool { severity != nil }

    /// Feeds one reading's severity (nil = normal); returns what changed, nil if nothing did.
    public mutating func observe(_ reading: Severity?, rules: Hysteresis) -> Change? {
        guard let reading else {
            anomalousRun = 0
            criticalRun = 0
            guard severity != nil else { return nil }
            normalRun += 1
            guard normalRun >= rules.clearAfter else { return nil }
            severity = nil
            normalRun = 0
            return .cleared
        }
        normalRun = 0
        anomalousRun += 1
        criticalRun = reading == .critical ? criticalRun + 1 : 0
        switch severity {
        case nil:
            guard anomalousRun >= rules.raiseAfter else { return nil }
            let opened: Severity = criticalRun >= rules.raiseAfter ? .critical : .warning
            severity = opened
            return .raised(opened)
        case .warning where criticalRun >= rules.raiseAfter:
            severity = .critical
            return .escalated
        default:
            return .continued
        }
    }
}
