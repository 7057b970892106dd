import Foundation
import Prometheus
import Synchronization

/// The process's own CPU time, memory, open files and start time, in the names Prometheus'
/// client libraries use (`process_*`), so the pipeline dashboard and alert rules read moby-server
/// like any other process. Sampled from `/proc/self` when `/metrics` is scraped (procfs is
/// kernel memory, not disk: reading it does not block on I/O).
final class ProcessMetrics: Sendable {
    private let cpuSeconds: Counter
    private let residentBytes: Gauge
    private let virtualBytes: Gauge
    private let openFiles: Gauge
    private let startTime: Gauge
    private let countedCPU = Mutex(0.0)

    init(registry: PrometheusCollectorRegistry) {
        cpuSeconds = registry.makeCounter(
            descriptor: .named("process_cpu_seconds_total", helpText: "User and system CPU time spent in seconds"))
        residentBytes = registry.makeGauge(
            descriptor: .named("process_resident_memory_bytes", helpText: "Resident memory size in bytes"))
        virtualBytes = registry.makeGauge(
            descriptor: .named("process_virtual_memory_bytes", helpText: "Virtual memory size in bytes"))
        openFiles = registry.makeGauge(
            descriptor: .named("process_open_fds", helpText: "Number of open file descriptors"))
        startTime = registry.makeGauge(
            descriptor: .named(
                "process_start_time_seconds", helpText: "Start time of the process since the Unix epoch in seconds"))
        if let sample = Self.sample() { startTime.set(to: sample.startTime) }
    }

    /// Reads `/proc/self` and updates the metrics; leaves them as they were where there is no
    /// procfs.
    func update() {
        guard let sample = Self.sample() else { return }
        let delta = countedCPU.withLock { counted in
            let delta = max(0, sample.cpuSeconds - counted)
            counted += delta
            return delta
        }
        if delta > 0 { cpuSeconds.increment(by: delta) }
        residentBytes.set(to: sample.residentBytes)
        virtualBytes.set(to: sample.virtualBytes)
        openFiles.set(to: sample.openFiles)
    }

    struct Sample: Equatable {
        var cpuSeconds: Double
        var residentBytes: Double
        var virtualBytes: Double
        var startTime: Double
        var openFiles: Double
    }

    static func sample() -> Sample? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let bootTime = bootTime()
        else { return nil }
        let openFiles = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        return parse(
            stat: stat, bootTime: bootTime, ticksPerSecond: Double(sysconf(Int32(_SC_CLK_TCK))),
            pageSize: Double(sysconf(Int32(_SC_PAGESIZE))), openFiles: Double(openFiles))
    }

    /// `/proc/self/stat` (proc(5)): the fields after the command name's closing parenthesis,
    /// which may itself hold spaces; utime and stime are fields 14 and 15, starttime 22, vsize 23
    /// and rss 24.
    static func parse(stat: String, bootTime: Double, ticksPerSecond: Double, pageSize: Double, openFiles: Double)
        -> Sample?
    {
        guard let close = stat.lastIndex(of: ")"), ticksPerSecond > 0 else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state).
        guard fields.count > 21, let utime = Double(fields[11]), let stime = Double(fields[12]),
            let started = Double(fields[19]), let vsize = Double(fields[20]), let rss = Double(fields[21])
        else { return nil }
        return Sample(
            cpuSeconds: (utime + stime) / ticksPerSecond, residentBytes: rss * pageSize, virtualBytes: vsize,
            startTime: bootTime + started / ticksPerSecond, openFiles: openFiles)
    }

    /// `btime` of `/proc/stat`: when the machine booted, seconds since the epoch.
    private static func bootTime() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}
