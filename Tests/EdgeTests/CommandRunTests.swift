import Foundation
import MobyTestSupport
import Synchronization
import Testing

@testable import Edge

#if canImport(Glibc)
    import Glibc
#endif

/// `--command`'s runs: what a command prints and how it ended, and that no run can stop
/// forwarding or take the agent's memory: a run past its timeout is killed with everything it
/// started, and its output is bounded.
@Suite(.timeLimit(.minutes(1))) struct CommandRunTests {
    @Test func linesErrorsAndStatusOfARun() async throws {
        let (outcome, lines) = try await CommandRun(
            "printf 'a\\r\\nb\\n'; echo oops >&2; exit 3", timeout: .seconds(20)
        ).runCollecting()
        #expect(lines == ["a", "b"])
        #expect(outcome.ending == .exited(3))
        #expect(outcome.errors == "oops\n")
        #expect(!outcome.outputCut)
    }

    @Test func aRunPastItsTimeoutIsKilledWithWhatItStarted() async throws {
        let pidFile = try TestPaths.scratch("command-run").appendingPathComponent("child").path
        let started = ContinuousClock.now
        let (outcome, lines) = try await CommandRun(
            "echo first; sleep 600 & echo $! > \(pidFile); wait; echo never", timeout: .milliseconds(500)
        ).runCollecting()
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(outcome.ending == .timedOut)
        #expect(lines == ["first"])
        let text = try String(contentsOfFile: pidFile, encoding: .utf8)
        let child = try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        try await eventually("the command's background child to be killed") { Self.hasEnded(child) }
    }

    @Test func aCommandThatClosesItsOutputAndHangsIsEndedToo() async throws {
        let started = ContinuousClock.now
        let (outcome, lines) = try await CommandRun("echo one; exec >&- 2>&-; sleep 600", timeout: .milliseconds(500))
            .runCollecting()
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(outcome.ending == .timedOut)
        #expect(lines == ["one"])
    }

    @Test func aCommandPrintingPastTheLimitIsEndedThere() async throws {
        let started = ContinuousClock.now
        let (outcome, lines) = try await CommandRun("yes 0123456789", timeout: .seconds(20), maxOutput: 1_000)
            .runCollecting()
        #expect(ContinuousClock.now - started < .seconds(5), "ended at the limit, not at its deadline")
        #expect(outcome.outputCut)
        // 1,000 bytes hold 90 whole lines of 11 bytes; the 91st is cut short and dropped.
        #expect(lines.count == 90)
        #expect(lines.allSatisfy { $0 == "0123456789" })
        #expect(outcome.ending == .signalled(SIGKILL))
    }

    @Test func errorOutputIsKeptUpTo4KiB() async throws {
        let (outcome, lines) = try await CommandRun(
            "head -c 100000 /dev/zero | tr '\\0' e >&2; echo done", timeout: .seconds(20)
        ).runCollecting()
        #expect(outcome.errors.utf8.count == 4_096)
        #expect(lines == ["done"])
        #expect(outcome.ending == .exited(0))
    }

    @Test func aLongLineIsCutWhereItShowsItIsTooLong() async throws {
        let (_, lines) = try await CommandRun(
            "head -c 200000 /dev/zero | tr '\\0' x; echo; echo next", timeout: .seconds(20)
        ).runCollecting()
        #expect(lines.map(\.utf8.count) == [LineReader.maxLine, 4])
    }

    @Test func cancellingARunKillsItAtOnce() async throws {
        let started = ContinuousClock.now
        let run = Task { try await CommandRun("sleep 600", timeout: .seconds(600)).runCollecting().outcome }
        try await Task.sleep(for: .milliseconds(300))
        run.cancel()
        let outcome = try await run.value
        #expect(outcome.ending == .signalled(SIGKILL))
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    /// The agent ignores SIGPIPE (and its signal handling ignores SIGTERM); ignored signals are
    /// inherited across exec, and a command ignoring SIGPIPE would spin on a closed pipe.
    @Test func theCommandDoesNotInheritIgnoredSignals() async throws {
        let pipe = signal(SIGPIPE, SIG_IGN)
        let term = signal(SIGTERM, SIG_IGN)
        defer {
            signal(SIGPIPE, pipe)
            signal(SIGTERM, term)
        }
        let (_, lines) = try await CommandRun("grep '^SigIgn' /proc/self/status", timeout: .seconds(20))
            .runCollecting()
        let line = try #require(lines.first)
        let mask = try #require(UInt64(line.split(separator: "\t").last ?? "", radix: 16), "\(line)")
        #expect(mask & (1 << (UInt64(SIGPIPE) - 1)) == 0, "\(line)")
        #expect(mask & (1 << (UInt64(SIGTERM) - 1)) == 0, "\(line)")
    }

    /// A run that hangs no longer stops forwarding for good: it is killed, and the next run's
    /// lines arrive.
    @Test func forwardingGoesOnAfterARunThatHung() async throws {
        let marker = try TestPaths.scratch("command-source").appendingPathComponent("ran").path
        let command = "if [ -e \(marker) ]; then echo second; else touch \(marker); echo first; sleep 600; fi"
        let lines = LineSource.command(
            command, every: .milliseconds(100), timeout: .milliseconds(500), logger: testLogger("command"))
        var iterator = lines.makeAsyncIterator()
        #expect(await iterator.next() == "first")
        #expect(await iterator.next() == "second")
    }

    /// Lines are handed on as they are printed, not when the run ends: a reading without a
    /// timestamp is stamped when it was printed, and one printed before a hang is not held until
    /// the deadline.
    @Test func linesArriveAsTheyArePrinted() async throws {
        let started = ContinuousClock.now
        let lines = LineSource.command(
            "echo first; sleep 30", every: .seconds(60), timeout: .seconds(45), logger: testLogger("command"))
        var iterator = lines.makeAsyncIterator()
        #expect(await iterator.next() == "first")
        #expect(ContinuousClock.now - started < .seconds(10), "handed on while the run still went on")
    }

    @Test func aKilledRunsUnfinishedLastLineIsDroppedAndAnEndedRunsKept() async throws {
        let (killed, cut) = try await CommandRun("printf 'a\\nbeg'; sleep 600", timeout: .milliseconds(500))
            .runCollecting()
        #expect(killed.ending == .timedOut)
        #expect(cut == ["a"], "'beg' may be the beginning of a line only")
        let (ended, whole) = try await CommandRun("printf 'a\\nb'", timeout: .seconds(20)).runCollecting()
        #expect(ended.ending == .exited(0) && ended.lineCount == 2)
        #expect(whole == ["a", "b"])
    }

    /// Gone, or a zombie that only waits for its reaper.
    static func hasEnded(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }
}

extension CommandRun {
    /// Runs the command and collects the lines it hands on.
    func runCollecting() async throws -> (outcome: Outcome, lines: [String]) {
        let lines = Mutex<[String]>([])
        let outcome = try await run { line in lines.withLock { $0.append(line) } }
        return (outcome, lines.withLock { $0 })
    }
}
