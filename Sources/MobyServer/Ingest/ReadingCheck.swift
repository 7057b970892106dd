import MobyCore

/// The one validation a message passes before it may be stored, whether it arrived over MQTT or
/// through `POST /publish`: the reading decodes (catalog, device-id alphabet, topic agreement),
/// InfluxDB will keep it (not older than the retention period). Both call this, so `/publish`
/// answers 202 only for what ingest will store (it also encodes the line and checks the device
/// limit, which ingest does as part of storing).
struct ReadingCheck: Sendable {
    let decoder: ReadingDecoder
    /// Readings older than this (ns) would be dropped by InfluxDB's retention policy; nil: kept forever.
    let retention: Int64?

    /// The reading in `payload`, or every reason it cannot be stored.
    func check(_ payload: UnsafeRawBufferPointer, topicDeviceID: String?, receivedAt: Int64) -> Result<
        Reading, ReadingRejection
    > {
        let result = decoder.decode(payload, topicDeviceID: topicDeviceID, receivedAt: receivedAt)
        guard case .success(let reading) = result else { return result }
        if let retention, reading.timestamp < receivedAt - retention {
            return .failure(
                ReadingRejection(
                    field: "timestamp",
                    "\(RFC3339.format(reading.timestamp)) is older than the retention period; InfluxDB would drop it"))
        }
        return result
    }
}
