import Testing

@testable import MobyServer

@Suite struct ProcessMetricsTests {
    @Test func readsProcSelfStatEvenWithSpacesInTheName() throws {
        // proc(5): pid (comm) state ppid … utime(14) stime(15) … starttime(22) vsize(23) rss(24)
        let stat =
            "4242 (moby server) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 9 0 12000 987654321 2048 "
            + "18446744073709551615 1 1 0 0 0 0 0 4096 0\n"
        let sample = try #require(
            ProcessMetrics.parse(
                stat: stat, bootTime: 1_700_000_000, ticksPerSecond: 100, pageSize: 4096, openFiles: 12))
        #expect(sample.cpuSeconds == 3)  // (250 + 50) ticks / 100
        #expect(sample.startTime == 1_700_000_120)  // boot + 12000 / 100
        #expect(sample.virtualBytes == 987_654_321)
        #expect(sample.residentBytes == 2048 * 4096)
        #expect(sample.openFiles == 12)
        #expect(
            ProcessMetrics.parse(stat: "4242 (x) S 1 2", bootTime: 0, ticksPerSecond: 100, pageSize: 4096, openFiles: 0)
                == nil)
    }
}
