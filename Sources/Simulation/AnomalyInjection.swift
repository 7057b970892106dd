/// An anomaly injected into one simulated device for demos and tests:
/// `KIND:DEVICE@START[+DURATION]`, e.g. `drift:sensor_003@60s+45s` (duration 30 s by default).
public struct AnomalyInjection: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// Temperature and vibration jump past their critical limits.
        case spike
        /// Temperature and vibration climb steadily (warning first, then critical).
        case drift
        /// Every value freezes at its last healthy reading.
        case stuck
        /// Vibration, sound, accel and gyro turn violently noisy.
        case noise
        /// The device goes silent.
        case dropout
    }

    public var kind: Kind
    public var deviceID: String
    public var start: Duration
    public var duration: Duration

    public init(kind: Kind, deviceID: String, start: Duration, duration: Duration = .seconds(30)) {
        self.kind = kind
        self.deviceID = deviceID
        self.start = start
        self.duration = duration
    }

    /// Parses `KIND:DEVICE@START[+DURATION]`; the error says what is wrong.
    public init(parsing text: String) throws(InjectionSyntaxError) {
        let usage = "expected KIND:DEVICE@START[+DURATION] like drift:sensor_003@60s+30s"
        guard let colon = text.firstIndex(of: ":"), let at = text.lastIndex(of: "@"), colon < at else {
            throw InjectionSyntaxError("'\(text)': \(usage)")
        }
        let kindText = String(text[..<colon])
        guard let kind = Kind(rawValue: kindText) else {
            throw InjectionSyntaxError(
                "'\(text)': unknown anomaly '\(kindText)'; one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        let device = String(text[text.index(after: colon)..<at])
        guard !device.isEmpty else { throw InjectionSyntaxError("'\(text)': no device; \(usage)") }
        let times = text[text.index(after: at)...].split(separator: "+", omittingEmptySubsequences: false)
        guard times.count <= 2, let start = Self.duration(times[0]) else {
            throw InjectionSyntaxError("'\(text)': bad start time; \(usage)")
        }
        var duration = Duration.seconds(30)
        if times.count == 2 {
            guard let parsed = Self.duration(times[1]), parsed > .zero else {
                throw InjectionSyntaxError("'\(text)': bad duration; \(usage)")
            }
            duration = parsed
        }
        self.init(kind: kind, deviceID: device, start: start, duration: duration)
    }

    public func isActive(at elapsed: Duration) -> Bool { elapsed >= start && elapsed < start + duration }

    /// 0 at the start, approaching 1 at the end.
    public func progress(at elapsed: Duration) -> Double {
        min(1, max(0, (elapsed - start) / duration))
    }

    /// `90`, `90s`, `1500ms`, `2m`, `1h`.
    public static func duration(_ text: Substring) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, seconds) in units where text.hasSuffix(suffix) {
            guard let number = Double(text.dropLast(suffix.count)), number >= 0 else { return nil }
            return .milliseconds(Int64((number * seconds * 1000).rounded()))
        }
        guard let number = Double(text), number >= 0 else { return nil }
        return .milliseconds(Int64((number * 1000).rounded()))
    }
}

/// A malformed `--anomaly` value.
public struct InjectionSyntaxError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}
