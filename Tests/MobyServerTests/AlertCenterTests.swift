import Foundation
import Logging
import MobyCore
import MobyTestSupport
import Synchronization
import Testing

@testable import MobyServer

/// The alert center and its SQLite store, without network: episode changes in, stored alerts,
/// history and sequenced events out.
@Suite struct AlertCenterTests {
    let catalog: SensorCatalog
    let path: String

    init() throws {
        catalog = try SensorCatalog.load(path: TestPaths.catalog)
        path = try TestPaths.scratch("alerts").appendingPathComponent("alerts.sqlite").path
    }

    func center(
        autoResolve: Bool = false, updateInterval: Duration = .seconds(3600),
        feed: AlertFeed = AlertFeed(bufferLimit: 100), metrics: ServerMetrics = ServerMetrics()
    ) throws -> (AlertCenter, SQLiteAlertStore) {
        let store = try SQLiteAlertStore(path: path)
        let center = AlertCenter(
            store: store, catalog: catalog, feed: feed, autoResolve: autoResolve, updateInterval: updateInterval,
            logger: testLogger(), metrics: metrics)
        return (center, store)
    }

    func signal(
        _ change: AnomalyEpisode.Change, device: String = "press-1", temperature: Double = 70, at: Int64 = 1_000
    )
        -> AnomalySignal
    {
        let reading = Reading(deviceID: device, timestamp: at, values: [MetricValue(.temperature, temperature)])
        let severity: Severity? = change == .cleared ? nil : .critical
        return AnomalySignal(
            deviceID: device, change: change, severity: severity,
            assessment: AnomalyScorer(catalog: catalog).assess(reading), readingAt: at)
    }

    @Test func anAlertCountsTheReadingsThatOpenedItsEpisode() async throws {
        let (center, store) = try center()
        _ = try await center.start()
        var raise = signal(.raised(.critical))
        raise.openingReadings = 3
        await center.handle(raise)
        let alert = try #require(try await store.openAlerts().first)
        #expect(alert.readingCount == 3)
        #expect(alert.summary.hasSuffix("over 3 readings."), "\(alert.summary)")
        await center.handle(signal(.continued))
        #expect(await center.openAlerts().first?.readingCount == 4, "each later reading adds one")
    }

    /// An operator resolved the alert while its episode was still open: the condition going on
    /// raises a new alert only after as many anomalous readings in a row since the resolve as
    /// opening an episode takes, counting those. Readings before the resolve (the alert counted
    /// them) do not count, and a recovering device's single relapse raises nothing.
    @Test func anEpisodeGoingOnAfterAResolveRaisesAfterAFullRunOnly() async throws {
        let (center, store) = try center()
        _ = try await center.start()
        func going(on run: Int, at time: Int64, _ change: AnomalyEpisode.Change = .continued) -> AnomalySignal {
            var next = signal(change, at: time)
            next.openingReadings = run
            next.raiseAfter = 3
            return next
        }
        var raise = signal(.raised(.critical))
        raise.openingReadings = 3
        raise.raiseAfter = 3
        await center.handle(raise)
        for run in 4...6 { await center.handle(going(on: run, at: 1_000 + Int64(run))) }
        let first = try #require(await center.openAlerts().first)
        #expect(first.readingCount == 6)
        // Resolved while the condition goes on without a break: readings 7 and 8 are not enough.
        _ = try await center.resolve(id: first.id, actor: "bob", note: "bearing greased")
        await center.handle(going(on: 7, at: 2_000))
        await center.handle(going(on: 8, at: 2_001))
        #expect(try await store.openAlerts().isEmpty, "two readings since the resolve raise nothing")
        await center.handle(going(on: 9, at: 2_002, .escalated))
        let second = try #require(try await store.openAlerts().first)
        #expect(second.id != first.id)
        #expect(second.readingCount == 3, "the readings since the resolve, not the whole run")
        #expect(second.summary.hasSuffix("over 3 readings."), "\(second.summary)")

        // Resolved while recovering: relapses of one and two readings raise nothing.
        _ = try await center.resolve(id: second.id, actor: "bob", note: "checked")
        await center.handle(going(on: 1, at: 3_000))
        await center.handle(going(on: 1, at: 3_002))
        await center.handle(going(on: 2, at: 3_003))
        #expect(try await store.openAlerts().isEmpty, "a relapse of one or two readings raises nothing")
        await center.handle(going(on: 3, at: 3_004))
        let third = try #require(try await store.openAlerts().first)
        #expect(third.id != second.id && third.readingCount == 3)
    }

    @Test func streamClientsDroppedForBeingSlowAreCounted() async throws {
        let feed = AlertFeed(bufferLimit: 2)
        let metrics = ServerMetrics()
        let (center, _) = try center(updateInterval: .zero, feed: feed, metrics: metrics)
        _ = try await center.start()
        let (slow, events) = feed.subscribe()  // never reads
        for index in 1...4 {
            await center.handle(signal(.raised(.warning), device: "press-\(index)", temperature: 50))
        }
        #expect(feed.wasDropped(slow))
        withExtendedLifetime(events) {}
        let text = String(decoding: metrics.registry.emitToBuffer(), as: UTF8.self)
        #expect(text.contains("moby_websocket_clients_dropped_total 1"), "\(text)")
    }

    @Test func oneAlertPerEpisodeWithCoalescedUpdatesAndSequencedEvents() async throws {
        let feed = AlertFeed(bufferLimit: 100)
        let (center, store) = try center(feed: feed)
        _ = try await center.start()
        let (_, events) = feed.subscribe()
        await center.handle(signal(.raised(.warning), temperature: 50))
        for index in 1...20 {
            await center.handle(signal(.continued, temperature: 50 + Double(index), at: 1_000 + Int64(index)))
        }
        await center.handle(signal(.escalated, temperature: 75, at: 2_000))
        await center.handle(signal(.cleared, at: 3_000))

        let page = try await store.alerts(AlertQuery())
        #expect(page.total == 1)
        let alert = try #require(page.alerts.first)
        #expect(alert.severity == .critical)
        #expect(alert.readingCount == 22)
        #expect(
            alert.peakScore
                == AnomalyScorer(catalog: catalog).score(
                    Reading(deviceID: "x", timestamp: 0, values: [MetricValue(.temperature, 75)])
                ).score)
        #expect(alert.clearedAt == 3_000)
        #expect(alert.lastSeenAt == 2_000)
        #expect(alert.status == .pending)

        // raised, escalation update, clear update: the 20 continued readings were coalesced.
        var received: [AlertEvent] = []
        for await event in events {
            received.append(event)
            if received.count == 3 { break }
        }
        #expect(received.map(\.type) == [.raised, .updated, .updated])
        #expect(received.map(\.sequence) == [1, 2, 3])
        #expect(try await store.history(alertID: alert.id).map(\.action) == ["raised", "escalated", "cleared"])
        let message = try JSONDecoder().decode(StreamMessage.self, from: Data(received[0].message.utf8))
        #expect(message.type == "alert.raised" && message.seq == 1 && message.alert?.deviceID == "press-1")
    }

    @Test func operatorActionsFollowTheLifecycle() async throws {
        let (center, store) = try center()
        _ = try await center.start()
        await center.handle(signal(.raised(.critical)))
        let id = try #require(try await store.openAlerts().first?.id)
        let acknowledged = try await center.acknowledge(id: id, actor: "alice", note: "looking")
        #expect(acknowledged.status == .acknowledged && acknowledged.acknowledgedBy == "alice")
        await #expect(throws: AlertActionError.self) { try await center.acknowledge(id: id, actor: "bob", note: nil) }
        let resolved = try await center.resolve(id: id, actor: "bob", note: "bearing replaced")
        #expect(resolved.status == .resolved && resolved.resolvedBy == "bob")
        do {
            _ = try await center.resolve(id: id, actor: "carol", note: nil)
            Issue.record("resolved twice")
        } catch {
            guard case .conflict(let reason) = error else { throw error }
            #expect(reason.description.contains("already resolved"))
        }
        do {
            _ = try await center.acknowledge(id: 999, actor: "carol", note: nil)
            Issue.record("acknowledged a missing alert")
        } catch {
            guard case .notFound(999) = error else { throw error }
        }
        let history = try await store.history(alertID: id)
        #expect(history.map(\.action) == ["raised", "acknowledged", "resolved"])
        #expect(history.map(\.actor) == ["moby", "alice", "bob"])
        #expect(history[2].note == "bearing replaced")
        #expect(try await store.openAlerts().isEmpty)

        // The condition goes on after the operator resolved it: a new alert, not the old one.
        await center.handle(signal(.continued))
        let reopened = try await store.openAlerts()
        #expect(reopened.count == 1 && reopened.first?.id != id)
    }

    /// The real store with faults put in front of its commits: a delay (so changes overlap as
    /// they do under load), or failing outright while `failing` is set (a full disk, a lock held).
    final class InjectedCommits: AlertStore {
        let inner: SQLiteAlertStore
        let delay: Duration
        let failing = Mutex(false)

        init(inner: SQLiteAlertStore, delay: Duration = .zero) {
            self.inner = inner
            self.delay = delay
        }

        struct Refused: Error {}

        func openAlerts() async throws -> [Alert] { try await inner.openAlerts() }
        func commit(_ alert: Alert, history: AlertHistoryEntry?, event: AlertEventType?) async throws -> (
            Alert, AlertEvent?
        ) {
            if delay > .zero { try await Task.sleep(for: delay) }
            if failing.withLock({ $0 }) { throw Refused() }
            return try await inner.commit(alert, history: history, event: event)
        }
        func alerts(_ query: AlertQuery) async throws -> AlertPage { try await inner.alerts(query) }
        func alert(id: Int64) async throws -> Alert? { try await inner.alert(id: id) }
        func history(alertID: Int64, latest: Int) async throws -> (entries: [AlertHistoryEntry], total: Int) {
            try await inner.history(alertID: alertID, latest: latest)
        }
        func events(after sequence: Int64, limit: Int) async throws -> [AlertEvent]? {
            try await inner.events(after: sequence, limit: limit)
        }
        func snapshot() async throws -> (alerts: [Alert], sequence: Int64) { try await inner.snapshot() }
    }

    /// A center over the real store behind `InjectedCommits`.
    func faultyCenter(autoResolve: Bool = false, delay: Duration = .zero) throws -> (AlertCenter, InjectedCommits) {
        let store = InjectedCommits(inner: try SQLiteAlertStore(path: path), delay: delay)
        let center = AlertCenter(
            store: store, catalog: catalog, feed: AlertFeed(bufferLimit: 100), autoResolve: autoResolve,
            updateInterval: .seconds(3600), logger: testLogger())
        return (center, store)
    }

    @Test func aRaiseTheStoreRefusedIsStoredAsARaiseLater() async throws {
        let (center, store) = try faultyCenter()
        _ = try await center.start()
        store.failing.withLock { $0 = true }
        await center.handle(signal(.raised(.critical)))
        #expect(try await store.inner.openAlerts().isEmpty)
        store.failing.withLock { $0 = false }
        // The next reading of the episode (before any flush) stores it: as raised, not updated.
        await center.handle(signal(.continued, at: 2_000))
        let alert = try #require(try await store.inner.openAlerts().first)
        #expect(try await store.inner.history(alertID: alert.id).map(\.action) == ["raised"])
        #expect(try await store.inner.events(after: 0, limit: 10)?.map(\.type) == [.raised])
    }

    @Test func anAcknowledgementTheStoreRefusedIsNotAppliedLater() async throws {
        let (center, store) = try faultyCenter()
        _ = try await center.start()
        await center.handle(signal(.raised(.critical)))
        let id = try #require(try await store.inner.openAlerts().first?.id)
        store.failing.withLock { $0 = true }
        await #expect(throws: AlertActionError.self) { try await center.acknowledge(id: id, actor: "alice", note: nil) }
        store.failing.withLock { $0 = false }
        await center.flush(force: true)
        #expect(try await store.inner.alert(id: id)?.status == .pending, "the operator was told it failed")
        // So trying again works, and the history has it once.
        #expect(try await center.acknowledge(id: id, actor: "alice", note: nil).status == .acknowledged)
        #expect(try await store.inner.history(alertID: id).map(\.action) == ["raised", "acknowledged"])
    }

    @Test func anAutoResolveTheStoreRefusedLeavesTheAlertClearedNotActive() async throws {
        let (center, store) = try faultyCenter(autoResolve: true)
        _ = try await center.start()
        await center.handle(signal(.raised(.critical)))
        let id = try #require(try await store.inner.openAlerts().first?.id)
        store.failing.withLock { $0 = true }
        await center.handle(signal(.cleared, temperature: 20, at: 3_000))
        store.failing.withLock { $0 = false }
        await center.flush(force: true)  // as the next due flush does
        let stored = try #require(try await store.inner.alert(id: id))
        #expect(stored.status == .pending && stored.clearedAt == 3_000, "cleared, for an operator to resolve")
        #expect(await center.openAlerts().first?.clearedAt == 3_000)
    }

    @Test func aNarrativeOfAnEarlierStateDoesNotReplaceTheCurrentOne() async throws {
        let (center, store) = try faultyCenter()
        _ = try await center.start()
        var warning = signal(.raised(.warning))
        warning.severity = .warning
        await center.handle(warning)
        let raised = try #require(try await store.inner.openAlerts().first)
        await center.applyNarrative("Press 1 runs a little warm.", to: raised.id, describing: raised)
        #expect(try await store.inner.alert(id: raised.id)?.narrative == "Press 1 runs a little warm.")
        // Escalated: the warning's narrative goes (the summary stands in) ...
        await center.handle(signal(.escalated, temperature: 90, at: 2_000))
        let escalated = try #require(try await store.inner.alert(id: raised.id))
        #expect(escalated.severity == .critical && escalated.narrative == nil)
        // ... and a late answer about the warning is dropped, the one about the escalation kept.
        await center.applyNarrative("Press 1 runs a little warm.", to: raised.id, describing: raised)
        #expect(try await store.inner.alert(id: raised.id)?.narrative == nil)
        await center.applyNarrative("Press 1 is overheating: 90 °C.", to: raised.id, describing: escalated)
        #expect(try await store.inner.alert(id: raised.id)?.narrative == "Press 1 is overheating: 90 °C.")
    }

    @Test func shutdownStoresEveryCoalescedUpdate() async throws {
        let (center, store) = try faultyCenter()
        _ = try await center.start()
        await center.handle(signal(.raised(.critical)))
        await center.handle(signal(.continued, at: 2_000))
        await center.flush()
        #expect(try await store.inner.openAlerts().first?.readingCount == 1, "not due for an hour")
        await center.flush(force: true)
        #expect(try await store.inner.openAlerts().first?.readingCount == 2)
    }

    @Test func overlappingChangesSeeEachOther() async throws {
        let inner = try SQLiteAlertStore(path: path)
        let center = AlertCenter(
            store: InjectedCommits(inner: inner, delay: .milliseconds(50)), catalog: catalog,
            feed: AlertFeed(bufferLimit: 100), autoResolve: false, updateInterval: .zero, logger: testLogger())
        _ = try await center.start()
        await center.handle(signal(.raised(.critical)))
        let id = try #require(try await inner.openAlerts().first?.id)

        // An update of the continuing episode and an acknowledgement at once: neither is lost.
        async let update: Void = center.handle(signal(.continued, temperature: 75, at: 2_000))
        async let acknowledged = center.acknowledge(id: id, actor: "alice", note: "looking")
        _ = await update
        _ = try await acknowledged
        #expect(try await inner.alert(id: id)?.status == .acknowledged)

        // Two operators resolve at once: one does, the other is told it is already resolved.
        @Sendable func resolve(_ actor: String) async -> Result<Alert, AlertActionError> {
            do throws(AlertActionError) {
                return .success(try await center.resolve(id: id, actor: actor, note: nil))
            } catch {
                return .failure(error)
            }
        }
        async let first = resolve("bob")
        async let second = resolve("carol")
        let outcomes = [await first, await second]
        #expect(outcomes.count { if case .success = $0 { true } else { false } } == 1)
        #expect(
            outcomes.count {
                if case .failure(.conflict) = $0 { true } else { false }
            } == 1)
        let history = try await inner.history(alertID: id)
        #expect(history.map(\.action) == ["raised", "acknowledged", "resolved"])
    }

    @Test func openAlertsSurviveARestartAndAreNotDuplicated() async throws {
        do {
            let (center, _) = try center()
            _ = try await center.start()
            await center.handle(signal(.raised(.warning), device: "a"))
            await center.handle(signal(.raised(.critical), device: "b"))
            await center.handle(signal(.cleared, device: "b"))
        }
        let (center, store) = try center()
        let open = try await center.start()
        #expect(Set(open.map(\.deviceID)) == ["a", "b"])
        // After the restart, device a's episode is seen again: the same alert is updated.
        await center.handle(signal(.raised(.critical), device: "a", at: 5_000))
        // Device b's condition comes back after it had cleared: the alert is reopened.
        await center.handle(signal(.raised(.warning), device: "b", at: 6_000))
        let alerts = try await store.alerts(AlertQuery()).alerts
        #expect(alerts.count == 2)
        let a = try #require(alerts.first { $0.deviceID == "a" })
        #expect(a.severity == .critical && a.readingCount == 2)
        let b = try #require(alerts.first { $0.deviceID == "b" })
        #expect(b.clearedAt == nil)
        #expect(try await store.history(alertID: b.id).map(\.action) == ["raised", "cleared", "reopened"])
    }

    @Test func autoResolveOnClearWhenConfigured() async throws {
        let (center, store) = try center(autoResolve: true)
        _ = try await center.start()
        await center.handle(signal(.raised(.warning)))
        await center.handle(signal(.cleared, at: 9_000))
        let alert = try #require(try await store.alerts(AlertQuery()).alerts.first)
        #expect(alert.status == .resolved && alert.resolvedBy == "moby" && alert.clearedAt == 9_000)
    }

    @Test func eventLogReplaysExactlyWhatWasMissedOrAsksForASnapshot() async throws {
        let store = try SQLiteAlertStore(path: path, eventsKept: 200)
        let center = AlertCenter(
            store: store, catalog: catalog, feed: AlertFeed(bufferLimit: 10), autoResolve: false,
            updateInterval: .zero, logger: testLogger())
        _ = try await center.start()
        await center.handle(signal(.raised(.warning)))
        for index in 1...299 { await center.handle(signal(.continued, at: 1_000 + Int64(index))) }
        let snapshot = try await store.snapshot()
        #expect(snapshot.sequence == 300 && snapshot.alerts.count == 1)
        let missed = try #require(try await store.events(after: 295, limit: 1000))
        #expect(missed.map(\.sequence) == [296, 297, 298, 299, 300])
        #expect(try await store.events(after: 300, limit: 1000)?.isEmpty == true)
        // Pruned (only the last 200 kept at the last prune), from the future, or too many: snapshot.
        #expect(try await store.events(after: 5, limit: 1000) == nil)
        #expect(try await store.events(after: 301, limit: 1000) == nil)
        #expect(try await store.events(after: 150, limit: 100) == nil)
    }

    @Test func filtersAndPagination() async throws {
        let (center, store) = try center()
        _ = try await center.start()
        for device in 0..<5 {
            await center.handle(
                signal(.raised(device < 2 ? .critical : .warning), device: "d\(device)", at: Int64(device) * 10))
        }
        let first = try await store.openAlerts().first!
        _ = try await center.acknowledge(id: first.id, actor: "x", note: nil)
        #expect(try await store.alerts(AlertQuery(statuses: [.acknowledged])).total == 1)
        #expect(try await store.alerts(AlertQuery(statuses: [.pending])).total == 4)
        #expect(try await store.alerts(AlertQuery(severities: [.critical])).total == 2)
        #expect(try await store.alerts(AlertQuery(deviceID: "d3")).alerts.map(\.deviceID) == ["d3"])
        #expect(try await store.alerts(AlertQuery(from: 20, to: 40)).alerts.map(\.deviceID) == ["d3", "d2"])
        let page = try await store.alerts(AlertQuery(limit: 2, offset: 2))
        #expect(page.total == 5 && page.alerts.map(\.deviceID) == ["d2", "d1"])
    }
}
