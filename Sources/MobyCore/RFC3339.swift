/// RFC 3339 timestamps to and from nanoseconds since the Unix epoch, exactly (no floating point,
/// fractional seconds kept to the nanosecond), without Foundation's formatters.
public enum RFC3339 {
    /// The range InfluxDB can store: nanoseconds in a signed 64-bit integer.
    public static let earliest: Int64 = -9_223_372_036_854_775_806
    public static let latest: Int64 = 9_223_372_036_854_775_806

    /// Parses `2025-11-17T10:30:00Z`, `2025-11-17T10:30:00.123456789+09:00`, `t`/`z` and a space
    /// between date and time. Returns nil when the text is not such a timestamp or is out of range.
    public static func parse(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { parse(utf8: $0) }
    }

    static func parse(utf8 b: UnsafeBufferPointer<UInt8>) -> Int64? {
        // YYYY-MM-DDTHH:MM:SS
        guard b.count >= 20 else { return nil }
        func digits(_ start: Int, _ count: Int) -> Int? {
            var value = 0
            for i in start..<(start + count) {
                let d = Int(b[i]) - 48
                guard d >= 0 && d <= 9 else { return nil }
                value = value * 10 + d
            }
            return value
        }
        guard let year = digits(0, 4), b[4] == UInt8(ascii: "-"), let month = digits(5, 2),
            b[7] == UInt8(ascii: "-"), let day = digits(8, 2),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == UInt8(ascii: " "),
            let hour = digits(11, 2), b[13] == UInt8(ascii: ":"), let minute = digits(14, 2),
            b[16] == UInt8(ascii: ":"), let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour <= 23,
            minute <= 59, second <= 60
        else { return nil }
        var i = 19
        var nanos: Int64 = 0
        if b[i] == UInt8(ascii: ".") {
            i += 1
            var count = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if count < 9 { nanos = nanos * 10 + Int64(b[i] - 48) }
                count += 1
                i += 1
            }
            guard count > 0 else { return nil }
            if count < 9 { for _ in count..<9 { nanos *= 10 } }
        }
        guard i < b.count else { return nil }
        var offsetSeconds = 0
        switch b[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
            guard i + 6 == b.count, let oh = digits(i + 1, 2), b[i + 3] == UInt8(ascii: ":"),
                let om = digits(i + 4, 2), oh <= 23, om <= 59
            else { return nil }
            offsetSeconds = sign * (oh * 3600 + om * 60)
            i += 6
        default:
            return nil
        }
        guard i == b.count else { return nil }
        // A leap second is stored as the last nanosecond-resolution instant before the next minute.
        let leap = second == 60
        let days = daysFromCivil(year: year, month: month, day: day)
        var seconds =
            Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + (leap ? 59 : second))
            - Int64(offsetSeconds)
        if leap { nanos = 999_999_999 }
        if seconds < 0, nanos > 0 {
            // Before 1970 the whole seconds alone can be out of range (1677-09-21T00:12:43 is
            // beyond Int64 nanoseconds, 00:12:43.145224194 is not): borrow a second.
            seconds += 1
            nanos -= 1_000_000_000
        }
        let (scaled, overflow1) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, overflow2) = scaled.addingReportingOverflow(nanos)
        guard !overflow1, !overflow2, total >= earliest, total <= latest else { return nil }
        return total
    }

    /// True when an RFC 3339 text has no fractional seconds (`…T10:30:00Z`), i.e. the writer
    /// stamped to the second.
    public static func isWholeSeconds(utf8 text: some Collection<UInt8>) -> Bool {
        !text.contains(UInt8(ascii: "."))
    }

    /// Formats nanoseconds since the epoch as `YYYY-MM-DDTHH:MM:SS[.fffffffff]Z` (fraction trimmed).
    public static func format(_ nanoseconds: Int64) -> String {
        var seconds = nanoseconds / 1_000_000_000
        var nanos = nanoseconds % 1_000_000_000
        if nanos < 0 {
            nanos += 1_000_000_000
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = civilFromDays(Int(days))
        // Digit by digit into one buffer: called for every simulated reading and API timestamp.
        var out: [UInt8] = []
        out.reserveCapacity(32)
        func digits(_ value: Int, _ width: Int) {
            var value = value
            if value < 0 {
                out.append(UInt8(ascii: "-"))
                value = -value
            }
            var divisor = 1
            var count = 1
            while divisor <= value / 10 {
                divisor *= 10
                count += 1
            }
            for _ in count..<max(width, count) { out.append(UInt8(ascii: "0")) }
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        digits(year, 4)
        out.append(UInt8(ascii: "-"))
        digits(month, 2)
        out.append(UInt8(ascii: "-"))
        digits(day, 2)
        out.append(UInt8(ascii: "T"))
        digits(Int(secondOfDay / 3600), 2)
        out.append(UInt8(ascii: ":"))
        digits(Int(secondOfDay % 3600 / 60), 2)
        out.append(UInt8(ascii: ":"))
        digits(Int(secondOfDay % 60), 2)
        if nanos > 0 {
            var fraction = Int(nanos)
            var width = 9
            while fraction % 10 == 0 {
                fraction /= 10
                width -= 1
            }
            out.append(UInt8(ascii: "."))
            digits(fraction, width)
        }
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
