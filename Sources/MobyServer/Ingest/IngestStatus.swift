import Synchronization

/// What the ingest loop reports to `/health/ready`: a server that has not yet subscribed would
/// let readings published now go to no one.
final class IngestStatus: Sendable {
    private let subscribedFlag = Mutex(false)

    var isSubscribed: Bool { subscribedFlag.withLock { $0 } }

    func markSubscribed() { subscribedFlag.withLock { $0 = true } }
}
