/// InfluxQL durations (`30d`, `1h30m`, `4w`, `INF`), for checking readings against the
/// retention period before InfluxDB silently drops them.
public enum InfluxDuration {
    /// Nanoseconds in `text`; nil for `INF` (keep forever) or text that is not a duration (or
    /// is longer than an Int64 of nanoseconds holds, about 292 years).
    public static func nanoseconds(_ text: String) -> Int64? {
        if text.uppercased() == "INF" || text.isEmpty { return nil }
        var total: Int64 = 0
        var number: Int64 = 0
        var sawDigit = false
        var characters = Array(text)
        characters.append(" ")
        var index = 0
        while index < characters.count - 1 {
            let character = characters[index]
            if let digit = character.wholeNumberValue, character.isASCII {
                // Beyond Int64's 292 years: not a duration we can hold (nil, not a trap).
                let (tens, overflowed) = number.multipliedReportingOverflow(by: 10)
                let (sum, overflowedAgain) = tens.addingReportingOverflow(Int64(digit))
                guard !overflowed, !overflowedAgain else { return nil }
                number = sum
                sawDigit = true
                index += 1
                continue
            }
            guard sawDigit else { return nil }
            let unit: Int64
            switch character {
            case "n" where characters[index + 1] == "s":
                unit = 1
                index += 1
            case "u", "µ": unit = 1_000
            case "m" where characters[index + 1] == "s":
                unit = 1_000_000
                index += 1
            case "s": unit = 1_000_000_000
            case "m": unit = 60_000_000_000
            case "h": unit = 3_600_000_000_000
            case "d": unit = 86_400_000_000_000
            case "w": unit = 604_800_000_000_000
            default: return nil
            }
            let (part, overflowed) = number.multipliedReportingOverflow(by: unit)
            let (sum, overflowedAgain) = total.addingReportingOverflow(part)
            guard !overflowed, !overflowedAgain else { return nil }
            total = sum
            number = 0
            sawDigit = false
            index += 1
        }
        return sawDigit ? nil : total
    }

    /// `nanoseconds` as InfluxDB prints a duration: the largest unit that divides it (`300s` is
    /// `5m`), so a statement can be compared with what `SHOW CONTINUOUS QUERIES` answers.
    public static func format(_ nanoseconds: Int64) -> String {
        let units: [(String, Int64)] = [
            ("w", 604_800_000_000_000), ("d", 86_400_000_000_000), ("h", 3_600_000_000_000), ("m", 60_000_000_000),
            ("s", 1_000_000_000), ("ms", 1_000_000), ("u", 1_000),
        ]
        guard nanoseconds > 0 else { return "0s" }
        for (name, size) in units where nanoseconds % size == 0 { return "\(nanoseconds / size)\(name)" }
        return "\(nanoseconds)ns"
    }
}
