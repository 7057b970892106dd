#if canImport(Glibc)
    import Glibc
#endif

/// Wall-clock time as readings carry it: nanoseconds since the Unix epoch (UTC).
public enum WallClock {
    public static func nanoseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}

extension Duration {
    /// The duration in whole nanoseconds (for comparing with `WallClock` times).
    public var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
