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
