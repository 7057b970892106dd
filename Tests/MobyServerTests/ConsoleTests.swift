import Foundation
import Hummingbird
import HummingbirdTesting
import MobyTestSupport
import Testing

@testable import MobyServer

/// The operator console's files and settings, in-process.
@Suite struct ConsoleTests {
    /// A bundle as `web/build` lays it out, with a `src` folder beside it.
    func bundle() throws -> (dist: URL, sources: URL) {
        let web = try TestPaths.scratch("web")
        let dist = web.appendingPathComponent("dist")
        let sources = web.appendingPathComponent("src")
        for folder in [dist.appendingPathComponent("assets"), sources] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        try "export const x = 1\n".write(
            to: sources.appendingPathComponent("main.tsx"), atomically: true, encoding: .utf8)
        try "<!doctype html><title>MOBY</title>".write(
            to: dist.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
        try "console.log(1)".write(
            to: dist.appendingPathComponent("assets/main-ABC123.js"), atomically: true, encoding: .utf8)
        try #"{"source_hash":"abc","built_at":"2026-11-29T07:00:00Z"}"#.write(
            to: dist.appendingPathComponent("manifest.json"), atomically: true, encoding: .utf8)
        return (dist, sources)
    }

    @Test func servesTheBundleWithCacheRulesAndTheSettings() async throws {
        let (dist, _) = try bundle()
        let harness = try await RouterHarness(["moby.web.dir": dist.path])
        try await harness.test { client in
            let index = try await client.answer("/")
            #expect(index.status == .ok && index.text.contains("<title>MOBY</title>"))
            #expect(index.headers[.cacheControl] == "no-cache", "a new build is picked up at once")
            let script = try await client.answer("/assets/main-ABC123.js")
            #expect(script.status == .ok && script.text == "console.log(1)")
            #expect(script.headers[.cacheControl] == "public, max-age=31536000, immutable")
            #expect(try await client.answer("/manifest.json").headers[.cacheControl] == "no-cache")
            #expect(try await client.answer("/assets/nothing.js").status == .notFound)
            #expect(try await client.answer("/api/v1/nothing").status == .notFound)
            let settings = try await client.answer("/api/v1/console")
            #expect(settings.status == .ok && settings.text == #"{"grafana":null}"#)
            // The API is still answered by its routes, not by files.
            #expect(try await client.answer("/health").json["status"] as? String == "ok")
        }
    }

    @Test func grafanaEmbedSettings() async throws {
        let harness = try await RouterHarness([
            "moby.grafana.url": "http://grafana.plant:3000", "moby.grafana.dashboard": "moby-sensors",
        ])
        try await harness.test { client in
            let grafana = try await client.answer("/api/v1/console").json["grafana"] as? [String: Any]
            #expect(grafana?["url"] as? String == "http://grafana.plant:3000")
            #expect(grafana?["dashboard"] as? String == "moby-sensors")
        }
        #expect(throws: ConfigurationError.self) { try ServerConfiguration(["moby.grafana.url": "grafana:3000"]) }
    }

    @Test func withoutABundleTheRootSaysHowToBuildOne() async throws {
        let missing = try TestPaths.scratch("no-web").appendingPathComponent("dist")
        let harness = try await RouterHarness(["moby.web.dir": missing.path])
        try await harness.test { client in
            let root = try await client.answer("/")
            #expect(root.status == .serviceUnavailable)
            let error = root.json["error"] as? String ?? ""
            #expect(error.contains("web/build") && error.contains("index.html"), "\(error)")
            #expect(try await client.answer("/api/v1/console").status == .ok)
        }
    }

    @Test func aBundleOlderThanItsSourcesIsNoticed() throws {
        let (dist, sources) = try bundle()
        let current = ConsoleBundle(directory: dist.path, sources: sources.path)
        #expect(current.state == .ready(builtAt: "2026-11-29T07:00:00Z", sourceHash: "abc", staleSource: nil))
        let later = Date().addingTimeInterval(60)
        let edited = sources.appendingPathComponent("main.tsx")
        try FileManager.default.setAttributes([.modificationDate: later], ofItemAtPath: edited.path)
        let stale = ConsoleBundle(directory: dist.path, sources: sources.path)
        #expect(
            stale.state == .ready(builtAt: "2026-11-29T07:00:00Z", sourceHash: "abc", staleSource: edited.path))
        try FileManager.default.removeItem(at: dist.appendingPathComponent("manifest.json"))
        guard case .missing(let reason) = ConsoleBundle(directory: dist.path, sources: nil).state else {
            Issue.record("a bundle without its manifest was accepted")
            return
        }
        #expect(reason.contains("manifest.json"))
    }
}
