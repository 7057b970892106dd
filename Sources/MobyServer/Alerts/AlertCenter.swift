import Logging
import MobyCore

/// Why an operator action on an alert failed: unknown alert (404), not allowed (409), or the
/// store is unavailable (503).
enum AlertActionError: Error, Sendable {
    case notFound(Int64)
    case conflict(LifecycleError)
    case unavailable(String)
}

/// Owns the open alerts: turns anomaly episode changes into alerts (one open alert per device
/// and rule), applies operator actions, stores every change with its history, and hands each
/// event to the WebSocket feed and the outlets (InfluxDB `alerts`, MQTT `factory/alerts/…`).
/// Updates from a continuing episode are coalesced to one event per `updateInterval`.
actor AlertCenter {
    /// The actor recorded in history for changes the server makes by itself.
    static let systemActor = "moby"

    let store: any AlertStore
    let catalog: SensorCatalog
    let feed: AlertFeed
    let autoResolve: Bool
    let updateInterval: Int64
    let logger: Logger
    /// Rewrites summaries of raised and escalated alerts, when an LLM is configured.
    let rewriter: SummaryRewriter?
    let metrics: ServerMetrics
    private let outlet: @Sendable (AlertEvent, Alert) -> Void
    private var open: [String: Alert] = [:]
    /// Alerts changed in memory but not yet stored (coalesced updates, failed writes).
    private var dirty: Set<String> = []
    private var lastStored: [String: Int64] = [:]
    /// Episodes going on after an operator resolved their alert: the last run ingest reported
    /// and how many readings of it came since the resolve (see `relapse`).
    private var relapses: [String: (run: Int, count: Int)] = [:]
    /// Changes run one at a time. Each reads an alert, awaits the store, then updates `open`;
    /// the actor alone would let a second change run during that wait on a stale copy (two
    /// operators both resolving one alert, an update overwriting an acknowledgement).
    private var changing = false
    private var waitingToChange: [CheckedContinuation<Void, Never>] = []

    init(
        store: any AlertStore, catalog: SensorCatalog, feed: AlertFeed, autoResolve: Bool,
        updateInterval: Duration = .seconds(1), logger: Logger, rewriter: SummaryRewriter? = nil,
        metrics: ServerMetrics = ServerMetrics(),
        outlet: @escaping @Sendable (AlertEvent, Alert) -> Void = { _, _ in }
    ) {
        self.store = store
        self.catalog = catalog
        self.feed = feed
        self.autoResolve = autoResolve
        self.updateInterval = updateInterval.nanoseconds
        self.logger = logger
        self.rewriter = rewriter
        self.metrics = metrics
        self.outlet = outlet
    }

    /// Loads the open alerts from the store; returns them so ingest can resume their episodes.
    func start() async throws -> [Alert] {
        let alerts = try await store.openAlerts()
        for alert in alerts { open[Self.key(alert.deviceID, alert.rule)] = alert }
        return alerts
    }

    /// The alerts not resolved yet.
    func openAlerts() -> [Alert] { Array(open.values) }

    // MARK: Anomaly episodes

    func handle(_ signal: AnomalySignal) async {
        await beginChange()
        defer { endChange() }
        defer {
            if case .raised = signal.change {
                metrics.alertRaiseDuration.record(.nanoseconds(WallClock.nanoseconds() - signal.receivedAt))
            }
        }
        let key = Self.key(signal.deviceID, Alert.anomalyRule)
        let now = WallClock.nanoseconds()
        switch signal.change {
        case .raised(let severity):
            relapses[key] = nil
            if var alert = open[key] {
                let reopened = alert.clearedAt != nil
                alert.absorb(signal.assessment, catalog: profile(of: signal), at: signal.readingAt)
                alert.severity = max(alert.severity, severity)
                // A new episode: the old narrative describes the last one.
                if reopened { alert.narrative = nil }
                let stored = await store(
                    alert, history: reopened ? entry("reopened", alert, now) : nil, event: .updated, now: now)
                if reopened, let stored { requestNarrative(for: stored) }
            } else {
                await raise(signal, severity: severity, now: now)
            }
        case .escalated:
            guard var alert = open[key] else {
                await relapse(signal, key: key, severity: .critical, now: now)
                return
            }
            alert.absorb(signal.assessment, catalog: profile(of: signal), at: signal.readingAt)
            alert.severity = .critical
            // The narrative of the warning would now understate it; the summary stands in until
            // the new one arrives.
            alert.narrative = nil
            if let stored = await store(alert, history: entry("escalated", alert, now), event: .updated, now: now) {
                requestNarrative(for: stored)
            }
        case .continued:
            guard var alert = open[key] else {
                await relapse(signal, key: key, severity: signal.severity ?? .warning, now: now)
                return
            }
            alert.absorb(signal.assessment, catalog: profile(of: signal), at: signal.readingAt)
            if now - (lastStored[key] ?? 0) >= updateInterval {
                await store(alert, history: nil, event: .updated, now: now)
            } else {
                open[key] = alert
                dirty.insert(key)
            }
        case .cleared:
            relapses[key] = nil
            guard var alert = open[key] else { return }
            alert.clearedAt = signal.readingAt
            alert.updatedAt = now
            if autoResolve {
                var resolved = alert
                try? resolved.resolve(by: Self.systemActor, at: now)
                let stored = await store(
                    resolved, history: entry("resolved", resolved, now, note: "condition cleared"), event: .resolved,
                    now: now)
                if stored == nil {
                    // Not stored: it stays open and cleared (the next flush stores that), for an
                    // operator to resolve, rather than open and active for good in memory.
                    open[key] = alert
                    dirty.insert(key)
                }
            } else {
                await store(alert, history: entry("cleared", alert, now), event: .updated, now: now)
            }
        }
    }

    /// Stores coalesced updates whose interval has passed (called every interval); `force`
    /// (at shutdown) stores them all.
    func flush(force: Bool = false) async {
        await beginChange()
        defer { endChange() }
        let now = WallClock.nanoseconds()
        for key in dirty {
            guard let alert = open[key], force || now - (lastStored[key] ?? 0) >= updateInterval else { continue }
            // One whose raise was not stored is stored as raised (`store`).
            await store(alert, history: nil, event: .updated, now: now)
        }
    }

    // MARK: Operator actions

    func acknowledge(id: Int64, actor: String, note: String?) async throws(AlertActionError) -> Alert {
        try await act(id: id, action: "acknowledged", actor: actor, note: note, event: .acknowledged) {
            (alert, now) throws(LifecycleError) in try alert.acknowledge(by: actor, at: now)
        }
    }

    func resolve(id: Int64, actor: String, note: String?) async throws(AlertActionError) -> Alert {
        try await act(id: id, action: "resolved", actor: actor, note: note, event: .resolved) {
            (alert, now) throws(LifecycleError) in try alert.resolve(by: actor, at: now)
        }
    }

    private func act(
        id: Int64, action: String, actor: String, note: String?, event: AlertEventType,
        change: (inout Alert, Int64) throws(LifecycleError) -> Void
    ) async throws(AlertActionError) -> Alert {
        await beginChange()
        defer { endChange() }
        var alert: Alert
        if let current = open.values.first(where: { $0.id == id }) {
            alert = current
        } else {
            let stored: Alert?
            do {
                stored = try await store.alert(id: id)
            } catch {
                throw .unavailable("alert store: \(error)")
            }
            guard let stored else { throw .notFound(id) }
            alert = stored
        }
        let now = WallClock.nanoseconds()
        do {
            try change(&alert, now)
        } catch {
            throw .conflict(error)
        }
        // Not kept to retry: the operator is told it failed, so it must not happen later anyway.
        guard
            let stored = await store(
                alert, history: entry(action, alert, now, actor: actor, note: note), event: event, now: now,
                retry: false)
        else { throw .unavailable("the alert store did not take the change; try again") }
        // A resolve starts the count of an episode that goes on afresh.
        if event == .resolved { relapses[Self.key(alert.deviceID, alert.rule)] = nil }
        return stored
    }

    /// The resolved catalog of the profile that judged the signal's reading.
    private func profile(of signal: AnomalySignal) -> SensorCatalog {
        catalog.profile(named: signal.profile) ?? catalog
    }

    // MARK: Storing and publishing

    /// A reading of an episode that goes on after an operator resolved its alert: a new alert
    /// once the condition has shown as many anomalous readings in a row since the resolve as
    /// opening an episode takes, counting those (a recovering device's single relapse raises
    /// nothing, and readings the resolved alert already counted are not counted again).
    private func relapse(_ signal: AnomalySignal, key: String, severity: Severity, now: Int64) async {
        let run = signal.openingReadings
        let count = relapses[key].map { run == $0.run + 1 ? $0.count + 1 : 1 } ?? 1
        guard count >= signal.raiseAfter else {
            relapses[key] = (run, count)
            return
        }
        relapses[key] = nil
        var raising = signal
        raising.openingReadings = count
        await raise(raising, severity: severity, now: now)
    }

    private func raise(_ signal: AnomalySignal, severity: Severity, now: Int64) async {
        let alert = Alert(
            deviceID: signal.deviceID, severity: severity, assessment: signal.assessment, catalog: profile(of: signal),
            at: signal.readingAt, readings: signal.openingReadings)
        if let stored = await store(alert, history: entry("raised", alert, now), event: .raised, now: now) {
            requestNarrative(for: stored)
        }
    }

    // MARK: LLM summaries

    /// Asks the rewriter in the background; the answer becomes an update if the alert is still open
    /// and still as it was described (same severity, same episode): a slow answer about the raise
    /// must not replace the one about the escalation.
    private func requestNarrative(for alert: Alert) {
        guard let rewriter else { return }
        Task {
            guard let text = await rewriter.rewrite(alert) else { return }
            await self.applyNarrative(text, to: alert.id, describing: alert)
        }
    }

    func applyNarrative(_ text: String, to id: Int64, describing described: Alert? = nil) async {
        await beginChange()
        defer { endChange() }
        guard var alert = open.values.first(where: { $0.id == id }) else { return }
        if let described, alert.severity != described.severity || alert.clearedAt != described.clearedAt {
            return
        }
        alert.narrative = text
        await store(
            alert, history: entry("summarized", alert, WallClock.nanoseconds(), actor: "llm"), event: .updated,
            now: WallClock.nanoseconds())
    }

    /// Commits `alert` with its history entry and event, keeps the open set current, and
    /// publishes the event. Returns nil on failure, and keeps the change in memory for `flush` to
    /// retry unless `retry` is false. An alert whose raise was not stored (id 0) is stored as
    /// raised whatever the change, so its first event and history entry say so.
    @discardableResult
    private func store(
        _ alert: Alert, history: AlertHistoryEntry?, event: AlertEventType, now: Int64, retry: Bool = true
    ) async -> Alert? {
        var alert = alert
        alert.updatedAt = now
        let key = Self.key(alert.deviceID, alert.rule)
        var history = history
        var event = event
        let firstStore = alert.id == 0 && event == .updated
        if firstStore {
            event = .raised
            history = entry("raised", alert, now)
        }
        do {
            let (stored, logged) = try await store.commit(alert, history: history, event: event)
            lastStored[key] = now
            dirty.remove(key)
            if stored.status.isOpen { open[key] = stored } else { open.removeValue(forKey: key) }
            if let logged {
                let dropped = feed.publish(logged)
                if dropped > 0 {
                    metrics.webSocketClientsDropped.increment(by: Int64(dropped))
                    logger.warning("dropped slow WebSocket clients", metadata: ["clients": "\(dropped)"])
                }
                outlet(logged, stored)
            }
            if firstStore { requestNarrative(for: stored) }
            if event == .raised {
                logger.notice(
                    "alert raised",
                    metadata: [
                        "alert": "\(stored.id)", "device": "\(stored.deviceID)", "severity": "\(stored.severity)",
                        "score": "\(stored.score)",
                    ])
            }
            return stored
        } catch {
            logger.error(
                "alert not stored; will retry", metadata: ["device": "\(alert.deviceID)", "error": "\(error)"])
            if retry, alert.status.isOpen, alert.id != 0 || open[key] == nil {
                open[key] = alert
                dirty.insert(key)
            }
            return nil
        }
    }

    /// Waits for the change in progress (if any) to end; changes go in the order they came.
    /// Not cancellable: the wait is bounded by the store writes ahead of it.
    private func beginChange() async {
        guard changing else {
            changing = true
            return
        }
        // `endChange` hands the turn over without clearing `changing`.
        await withCheckedContinuation { waitingToChange.append($0) }
    }

    private func endChange() {
        if waitingToChange.isEmpty {
            changing = false
        } else {
            waitingToChange.removeFirst().resume()
        }
    }

    private func entry(
        _ action: String, _ alert: Alert, _ now: Int64, actor: String = AlertCenter.systemActor, note: String? = nil
    ) -> AlertHistoryEntry {
        AlertHistoryEntry(action: action, actor: actor, at: now, note: note, status: alert.status)
    }

    private static func key(_ deviceID: String, _ rule: String) -> String { deviceID + "\u{1F}" + rule }
}
