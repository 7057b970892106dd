import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One run of `--command`: `/bin/sh -c <command>` in a process group of its own, so that a run
/// that outlives its `timeout` is ended with everything it started (a shell's children outlive a
/// kill of the shell alone). Its standard output is kept up to `maxOutput` bytes (a command
/// printing more is ended there), its standard error's first 4 KiB. The blocking calls (poll,
/// read, waitpid) run on a thread of their own, never on Swift's shared threads, and a run returns
/// at most a grace period after its deadline even when its process cannot be ended (stuck in the
/// kernel on a hung device): a command that hangs cannot stall the agent.
public struct CommandRun: Sendable {
    /// How the command ended.
    public enum Ending: Sendable, Equatable {
        case exited(Int32)
        case signalled(Int32)
        /// Killed (with its process group) once the timeout had passed.
        case timedOut
        /// Still there a grace period after it was killed (stuck in the kernel), or reaped by
        /// someone else: a thread of its own waits to reap it.
        case unknown
    }

    /// What a run printed and how it ended.
    public struct Outcome: Sendable {
        /// How many lines of its standard output (`LineSplitter`) were handed to `run`'s
        /// `onLine`, each as it arrived; a line cut short by the end of a killed or overlong
        /// output is dropped.
        public var lineCount: Int
        public var ending: Ending
        /// The first 4 KiB of its standard error.
        public var errors: String
        /// True when the output passed `maxOutput` and the rest was dropped.
        public var outputCut: Bool
    }

    /// Per run, far more than a command printing readings needs (250,000 lines of 64 bytes).
    public static let defaultMaxOutput = 16 << 20
    static let maxErrors = 4_096
    /// After a kill, how long the pipes may stay open (a process that left the group holds them).
    static let grace: Duration = .seconds(1)

    public let command: String
    public let timeout: Duration
    public let maxOutput: Int

    public init(_ command: String, timeout: Duration, maxOutput: Int = Self.defaultMaxOutput) {
        self.command = command
        self.timeout = timeout
        self.maxOutput = maxOutput
    }

    /// Runs the command to its end, its timeout, or the task's cancellation (which kills its
    /// process group at once and returns what it printed so far). Each line goes to `onLine` as
    /// soon as it is printed (on the run's own thread), so a reading is not held until the run
    /// ends.
    public func run(onLine: @escaping @Sendable (String) -> Void = { _ in }) async throws -> Outcome {
        let child = try Child.spawn(["/bin/sh", "-c", command])
        let deadline = ContinuousClock.now + timeout
        let maxOutput = maxOutput
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                let thread = Thread {
                    continuation.resume(
                        returning: child.collect(until: deadline, maxOutput: maxOutput, onLine: onLine))
                }
                thread.name = "moby-sensor.command"
                thread.start()
            }
        } onCancel: {
            child.kill()
        }
    }
}

/// A spawned command: its pid (also its process group), the read ends of its output pipes.
/// Killing and reaping share a lock, so the group is never signalled once the shell was reaped
/// (its pid may then belong to another process).
private final class Child: Sendable {
    let pid: pid_t
    let output: Int32
    let errors: Int32
    private struct Life {
        var killed = false
        var reaped = false
    }
    private let life = Mutex(Life())

    private init(pid: pid_t, output: Int32, errors: Int32) {
        self.pid = pid
        self.output = output
        self.errors = errors
    }

    static func spawn(_ arguments: [String]) throws -> Child {
        var out: [Int32] = [-1, -1]
        var err: [Int32] = [-1, -1]
        guard pipe(&out) == 0 else { throw CommandRunError.spawn("pipe", errno) }
        guard pipe(&err) == 0 else {
            let code = errno
            close(out[0])
            close(out[1])
            throw CommandRunError.spawn("pipe", code)
        }
        // Not inherited by the command (its copies are the dup2s below), nor by anything else
        // the agent starts.
        for descriptor in out + err { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A group of its own (pgid = pid), default handling of every signal (ignored ones, such as
        // SIGPIPE and the SIGTERM the agent's signal handling ignores, would be inherited), no
        // blocked signals.
        var signals = sigset_t()
        sigfillset(&signals)
        sigdelset(&signals, SIGKILL)
        sigdelset(&signals, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &signals)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid = pid_t()
        let status = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
        close(out[1])
        close(err[1])
        guard status == 0 else {
            close(out[0])
            close(err[0])
            throw CommandRunError.spawn("posix_spawn \(arguments[0])", status)
        }
        return Child(pid: pid, output: out[0], errors: err[0])
    }

    /// Kills the whole process group (once, and never after the shell was reaped).
    func kill() {
        life.withLock { life in
            guard !life.killed, !life.reaped else { return }
            life.killed = true
            _ = Glibc.kill(-pid, SIGKILL)
        }
    }

    var wasKilled: Bool { life.withLock { $0.killed } }

    /// Reaps the shell if it has ended: its wait status, nil while it runs, `.max` when it is not
    /// ours to reap (ECHILD).
    private func reap() -> Int32? {
        life.withLock { life in
            var status: Int32 = 0
            while true {
                let reaped = waitpid(pid, &status, WNOHANG)
                if reaped == pid {
                    life.reaped = true
                    return status
                }
                if reaped < 0, errno == EINTR { continue }
                if reaped < 0 {
                    life.reaped = true
                    return .max
                }
                return nil
            }
        }
    }

    /// On its own thread: reads both pipes until they close, killing the group at `deadline`;
    /// then reaps the shell.
    func collect(
        until deadline: ContinuousClock.Instant, maxOutput: Int, onLine: (String) -> Void
    ) -> CommandRun.Outcome {
        var printed = 0
        var splitter = LineSplitter()
        var lineCount = 0
        let emit = { (line: String) in
            lineCount += 1
            onLine(line)
        }
        var errorText: [UInt8] = []
        var outputCut = false
        var open: [Int32?] = [output, errors]
        var timedOut = false
        var graceEnds: ContinuousClock.Instant?
        /// Kills the group once the deadline has passed; returns how long the run may still
        /// wait: until the deadline, or after any kill, a grace period for the group to go.
        func limit(at now: ContinuousClock.Instant) -> ContinuousClock.Instant {
            if !wasKilled, now >= deadline {
                timedOut = true
                kill()
            }
            if wasKilled, graceEnds == nil { graceEnds = now + CommandRun.grace }
            return graceEnds ?? deadline
        }
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while open.contains(where: { $0 != nil }) {
            let now = ContinuousClock.now
            let until = limit(at: now)
            if graceEnds != nil, now >= until { break }
            var fds = open.compactMap { $0 }.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let wait = Swift.max(0, Swift.min(Int((until - now) / .milliseconds(1)) + 1, 100))
            let ready = poll(&fds, nfds_t(fds.count), Int32(wait))
            guard ready > 0 else { continue }
            for descriptor in fds where descriptor.revents != 0 {
                let count = chunk.withUnsafeMutableBytes { read(descriptor.fd, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR || errno == EAGAIN { continue }
                guard count > 0 else {
                    if let index = open.firstIndex(of: descriptor.fd) { open[index] = nil }
                    continue
                }
                if descriptor.fd == self.output {
                    let room = maxOutput - printed
                    let kept = chunk[..<Swift.min(count, Swift.max(room, 0))]
                    printed += kept.count
                    splitter.feed(kept, emit)
                    if count > room, !outputCut {
                        // More than any reading command prints: a runaway, ended here rather
                        // than read and dropped until its deadline.
                        outputCut = true
                        kill()
                    }
                } else {
                    errorText += chunk[..<Swift.min(count, Swift.max(CommandRun.maxErrors - errorText.count, 0))]
                }
            }
        }
        close(output)
        close(errors)
        // The shell may still run with its output closed: it has the same deadline and grace;
        // one that outlives them (stuck in the kernel) is left to a thread that reaps it
        // whenever it ends.
        var status: Int32?
        while true {
            status = reap()
            if status != nil { break }
            let now = ContinuousClock.now
            let until = limit(at: now)
            if graceEnds != nil, now >= until { break }
            usleep(5_000)
        }
        if status == nil {
            let pid = pid
            Thread.detachNewThread {
                var ignored: Int32 = 0
                while waitpid(pid, &ignored, 0) < 0 && errno == EINTR {}
            }
        }
        // waitpid's status: the low 7 bits are the signal that ended it (0: it exited), the next
        // byte its exit status.
        let ending: CommandRun.Ending
        if timedOut {
            ending = .timedOut
        } else if let status, status != .max {
            ending = status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .signalled(status & 0x7f)
        } else {
            ending = .unknown
        }
        // Output that ended early (killed, cut) may end inside a line: that line is not whole.
        splitter.finish(whole: !(wasKilled || outputCut), emit)
        return CommandRun.Outcome(
            lineCount: lineCount, ending: ending, errors: String(decoding: errorText, as: UTF8.self),
            outputCut: outputCut)
    }
}

/// A command that could not be started.
public enum CommandRunError: Error, CustomStringConvertible {
    case spawn(String, Int32)

    public var description: String {
        switch self {
        case .spawn(let what, let code): "\(what) failed: \(String(cString: strerror(code)))"
        }
    }
}
