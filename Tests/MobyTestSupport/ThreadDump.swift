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
            return "thread dump in \(file.path) (gdb exit \(process.terminationStatus))"
        } catch {
            return "no thread dump: \(error)"
        }
    }
}
