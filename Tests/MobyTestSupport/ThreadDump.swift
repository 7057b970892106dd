import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Every thread's stack of this test process, taken with gdb when a test waited too long.
///
/// Why: a rare stall (a writer that stopped handing back receipts while the test's own polling
/// went on) could not be reproduced on demand; the stacks at the moment it happens say whether
/// an actor's job sat queued with no thread to run it or a continuation was never resumed.
public enum ThreadDump {
    /// Writes the stacks to a file under `.build/test-stalls/` and returns its path, or why not.
    /// Blocks the calling thread for the dump (a second or two); meant for failure paths only.
    public static func write(label: String) -> String {
        let gdb = "/usr/bin/gdb"
        guard FileManager.default.isExecutableFile(atPath: gdb) else { return "no thread dump: \(gdb) missing" }
        let directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            .appendingPathComponent(".build/test-stalls", isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let safe = label.map { $0.isLetter || $0.isNumber ? $0 : "-" }
            let name = "\(String(safe))-\(getpid())-\(Int(Date().timeIntervalSince1970)).txt"
            let file = directory.appendingPathComponent(name)
            _ = FileManager.default.createFile(atPath: file.path, contents: nil)
            let handle = try FileHandle(forWritingTo: file)
            defer { try? handle.close() }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: gdb)
            process.arguments = [
                "-p", String(getpid()), "-batch", "-nx", "-ex", "set pagination off", "-ex", "thread apply all bt 30",
            ]
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            process.waitUntilExit()
            let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            return "thread dump in \(file.path) (gdb exit \(process.terminationStatus)); threads:\n"
                + summary(of: text)
        } catch {
            return "no thread dump: \(error)"
        }
    }

    /// One line per thread: its name and its innermost `frames` function names, so a log read
    /// elsewhere (a CI run) still says where each thread stood.
    static func summary(of dump: String, frames: Int = 6) -> String {
        var lines: [String] = []
        var current: (name: String, functions: [String])?
        func close() {
            if let current { lines.append("\(current.name): \(current.functions.joined(separator: " < "))") }
        }
        for line in dump.split(separator: "\n") {
            if line.hasPrefix("Thread ") {
                close()
                let name = line.split(separator: "\"").dropFirst().first.map(String.init) ?? String(line.prefix(40))
                current = (name, [])
            } else if line.hasPrefix("#"), var thread = current, thread.functions.count < frames {
                // "#3  0x… in name (args) at file" or "#0  name (args) at file"
                var rest = line.drop { $0 != " " }.drop { $0 == " " }
                if rest.hasPrefix("0x"), let range = rest.range(of: " in ") { rest = rest[range.upperBound...] }
                let function = rest.prefix { $0 != " " && $0 != "(" }
                thread.functions.append(String(function.prefix(90)))
                current = thread
            }
        }
        close()
        return lines.joined(separator: "\n")
    }
}
