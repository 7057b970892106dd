/// Files of this repository that tests use as they are (the sensor catalog, templates).
public enum RepositoryFile {
    /// The repository's root folder, found from this source file's location.
    public static var root: String {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/MobyTestSupport/RepositoryFile.swift
        return parts.joined(separator: "/")
    }

    /// `config/sensors.json`, the sensor catalog.
    public static var catalog: String { root + "/config/sensors.json" }
}
