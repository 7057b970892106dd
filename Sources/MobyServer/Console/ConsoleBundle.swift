import Foundation

/// The operator console's built files (`web/build` output): where they are, when they were
/// built and whether they are older than their sources, checked once at start so the log says
/// plainly what `/` serves, or why it serves nothing.
struct ConsoleBundle: Sendable {
    /// What the start-up check found.
    enum State: Sendable, Equatable {
        /// `index.html` and `manifest.json` are there; `staleSource` names a source file changed
        /// after the build, if any.
        case ready(builtAt: String, sourceHash: String, staleSource: String?)
        /// Nothing to serve; the reason says what is missing and how to build it.
        case missing(String)
    }

    let directory: String
    let state: State

    /// Checks `directory`; `sources` is the folder the bundle is built from (its files' times
    /// are compared with the manifest's), when it exists.
    init(directory: String, sources: String?) {
        self.directory = directory
        let index = directory + "/index.html"
        let manifestPath = directory + "/manifest.json"
        let files = FileManager.default
        guard files.fileExists(atPath: index) else {
            state = .missing("\(index) does not exist; build the console with web/build \(directory)")
            return
        }
        guard let data = files.contents(atPath: manifestPath),
            let manifest = try? JSONDecoder().decode(Manifest.self, from: data)
        else {
            state = .missing("\(manifestPath) is missing or unreadable; build the console again with web/build")
            return
        }
        var stale: String?
        if let sources, let built = try? files.attributesOfItem(atPath: manifestPath)[.modificationDate] as? Date,
            let walker = files.enumerator(atPath: sources)
        {
            while let relative = walker.nextObject() as? String {
                let path = sources + "/" + relative
                if let changed = try? files.attributesOfItem(atPath: path)[.modificationDate] as? Date, changed > built,
                    (try? files.attributesOfItem(atPath: path)[.type] as? FileAttributeType) == .typeRegular
                {
                    stale = path
                    break
                }
            }
        }
        state = .ready(builtAt: manifest.builtAt, sourceHash: manifest.sourceHash, staleSource: stale)
    }

    var isServable: Bool { if case .ready = state { true } else { false } }

    private struct Manifest: Decodable {
        var builtAt: String
        var sourceHash: String

        enum CodingKeys: String, CodingKey {
            case builtAt = "built_at"
            case sourceHash = "source_hash"
        }
    }
}
