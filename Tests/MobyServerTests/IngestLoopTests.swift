import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import MobyServer

/// The ingest path's tasks run on the ingest loop: after every suspension, in child tasks, and
/// inside default actors they call.
@Suite struct IngestLoopTests {
    actor Counter {
        var onLoop: [Bool] = []
        func note(_ loop: any EventLoop) { onLoop.append(loop.inEventLoop) }
    }

    @Test func tasksAndTheActorsTheyCallRunOnTheLoop() async throws {
        let loop = IngestLoop(eventLoop: MultiThreadedEventLoopGroup.singleton.next())
        let counter = Counter()
        let seen = try await loop.run {
            var seen: [Bool] = [loop.eventLoop.inEventLoop]
            try await Task.sleep(for: .milliseconds(5))
            seen.append(loop.eventLoop.inEventLoop)
            await counter.note(loop.eventLoop)
            seen.append(
                await withTaskGroup(of: Bool.self) { tasks in
                    tasks.addTask {
                        await Task.yield()
                        return loop.eventLoop.inEventLoop
                    }
                    return await tasks.next() ?? false
                })
            return seen
        }
        #expect(seen == [true, true, true])
        #expect(await counter.onLoop == [true])
        // Outside `run`, the same code is not on the loop.
        #expect(!loop.eventLoop.inEventLoop)
    }
}
