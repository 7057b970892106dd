import NIOCore

/// Swift concurrency jobs run on one NIO event loop: tasks that mostly hand work to a connection
/// (ingest, the batch writer, a sensor's drain) run where that connection's I/O does, instead of
/// waking a thread of Swift's pool and then the loop's thread for every exchange.
public final class EventLoopTaskExecutor: TaskExecutor {
    public let eventLoop: any EventLoop

    public init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
