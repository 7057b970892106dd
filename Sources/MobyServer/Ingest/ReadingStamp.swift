import MobyCore

/// Gives every distinct reading of a device its own point in InfluxDB, where a point is
/// identified by series and timestamp: two readings of one device stamped to the same second
/// (the seed's own format, from a sensor sending faster than 1 Hz) would otherwise overwrite each
/// other. A timestamp written in whole seconds (no fraction in its text) gets a sub-second
/// offset derived from the reading's values: deterministic, so a redelivered reading still lands on (and overwrites) its own point,
/// while a different reading lands next to it. Finer timestamps are stored exactly; a different
/// reading with the same fine timestamp is refused with the reason (`FleetState` finds it). A
/// reading without a timestamp gets its receive time plus its position in the run.
enum ReadingStamp {
    /// Timestamps that are whole multiples of this (ns) get an offset below it.
    static let coarseUnit: Int64 = 1_000_000_000

    /// A reading's timestamp as the sensor sent it and its content hash, for collision checks.
    struct Stamp: Equatable {
        var sensorTimestamp: Int64
        var hash: UInt64
        /// True when the stored timestamp has the content-derived offset.
        var offset: Bool

        /// The offset a whole-second stamp with this hash gets.
        static func offset(of hash: UInt64) -> Int64 { Int64(hash % UInt64(ReadingStamp.coarseUnit)) }
    }

    /// Adjusts `reading.timestamp` as described above; returns the stamp to check for
    /// collisions (nil for a reading without a timestamp, which cannot collide).
    static func disambiguate(_ reading: inout Reading, receivedAt: Int64, position: Int) -> Stamp? {
        if reading.timestamp == receivedAt {
            // No timestamp in the message: the run's receive time, one nanosecond per message.
            reading.timestamp = receivedAt &+ Int64(position)
            return nil
        }
        let hash = contentHash(reading)
        // Decided by how the sensor wrote it: `10:30:00.000Z` from a millisecond sensor is exact.
        // Whole seconds lie inside InfluxDB's range with at least a second to spare.
        guard reading.timestampInWholeSeconds, reading.timestamp % coarseUnit == 0,
            reading.timestamp <= RFC3339.latest - coarseUnit
        else {
            return Stamp(sensorTimestamp: reading.timestamp, hash: hash, offset: false)
        }
        let stamp = Stamp(sensorTimestamp: reading.timestamp, hash: hash, offset: true)
        reading.timestamp += Stamp.offset(of: hash)
        return stamp
    }

    /// A 64-bit hash of the metrics and the bits of their values (not of the JSON text, so the
    /// same reading written with other spacing or key order is the same point).
    static func contentHash(_ reading: Reading) -> UInt64 {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15
        for value in reading.values {
            hash = (hash ^ UInt64(value.metric.ordinal)) &* 0xBF58_476D_1CE4_E5B9
            hash = (hash ^ value.value.bitPattern) &* 0x94D0_49BB_1331_11EB
            hash ^= hash >> 31
        }
        return hash
    }
}
