/// How bad an anomaly is. Ordered: critical outranks warning.
public enum Severity: String, Sendable, Codable, Comparable, CaseIterable {
    case warning
    case critical

    public static func < (lhs: Severity, rhs: Severity) -> Bool {
        lhs == .warning && rhs == .critical
    }
}

extension Optional where Wrapped == Severity {
    /// The worse of two optional severities (nil = normal).
    public func worse(_ other: Severity?) -> Severity? {
        switch (self, other) {
        case (nil, let other): other
        case (let this, nil): this
        case (.some(let a), .some(let b)): max(a, b)
        }
    }
}
