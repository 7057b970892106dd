import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// Where blocking spool I/O (`pwrite`, `fdatasync`, `pread`) runs: NIO's thread pool for
/// blocking work, never Swift's few shared cooperative threads, which an fsync of a slow disk
/// would otherwise hold for milliseconds while every other task waits.
public enum DiskThreads {
    /// Runs `work` on the blocking-I/O pool and returns its result. The work runs even when the
    /// calling task is cancelled (NIO's async variant would skip work not yet started): readings
    /// handed to the disk are never dropped on the way, and a disk operation takes milliseconds.
    public static func run<Value: Sendable>(
        _ work: @escaping @Sendable () throws(SpoolError) -> Value
    ) async throws(SpoolError) -> Value {
        do {
            return try await NIOThreadPool.singleton.runIfActive(
                eventLoop: MultiThreadedEventLoopGroup.singleton.any()
            ) { try work() }.get()
        } catch let error as SpoolError {
            throw error
        } catch {
            throw .io("disk thread pool: \(error)", EIO)
        }
    }
}
