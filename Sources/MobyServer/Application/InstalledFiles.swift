import Foundation

/// Where the files that ship with moby-server (the sensor catalog, the console bundle) are
/// found when no setting names them, so a server started from any folder finds them: the
/// working directory first (a checkout), then the install layout beside the executable
/// (`/usr/local/bin/moby-server` → `/usr/local/share/moby/…`), then the folders above the
/// executable (a build inside a checkout: `.build/release/moby-server`).
public struct InstalledFiles: Sendable {
    /// The folder the working-directory lookups start in.
    public var workingDirectory: String
    /// The running executable's path, symlinks resolved.
    public var executable: String

    public init(
        workingDirectory: String = FileManager.default.currentDirectoryPath,
        executable: String = InstalledFiles.currentExecutable()
    ) {
        self.workingDirectory = workingDirectory
        self.executable = executable
    }

    /// The places `locate` looks, in order.
    public func candidates(checkout: String, installed: String) -> [String] {
        var places = [(workingDirectory as NSString).appendingPathComponent(checkout)]
        var folder = (executable as NSString).deletingLastPathComponent
        let prefix = (folder as NSString).deletingLastPathComponent
        places.append((prefix as NSString).appendingPathComponent("share/moby/" + installed))
        while folder != "/" && !folder.isEmpty {
            folder = (folder as NSString).deletingLastPathComponent
            places.append((folder as NSString).appendingPathComponent(checkout))
        }
        return places
    }

    /// The first of `candidates` that exists, or nil.
    public func locate(checkout: String, installed: String) -> String? {
        candidates(checkout: checkout, installed: installed).first { FileManager.default.fileExists(atPath: $0) }
    }

    /// `/proc/self/exe` where there is one, else what the process was started as.
    public static func currentExecutable() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return Bundle.main.executablePath ?? CommandLine.arguments.first ?? ""
    }
}
