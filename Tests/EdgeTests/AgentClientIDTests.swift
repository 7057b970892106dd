import Foundation
import MobyTestSupport
import Testing

@testable import Edge

@Suite struct AgentClientIDTests {
    @Test func madeOnceThenTheSameAtEveryStartAndAnotherForAnotherOutbox() throws {
        let outbox = try TestPaths.scratch("outbox").appendingPathComponent("nested").path
        let first = try AgentClientID.stored(in: outbox, host: "press-hall.plant.example")
        #expect(first.hasPrefix("moby-sensor-press-hall-") && first.count > "moby-sensor-press-hall-".count)
        #expect(try AgentClientID.stored(in: outbox, host: "another-name") == first, "kept, not derived again")
        let stored = try String(contentsOfFile: outbox + "/client-id", encoding: .utf8)
        #expect(stored == first + "\n")
        let other = try TestPaths.scratch("outbox").path
        #expect(try AgentClientID.stored(in: other, host: "press-hall") != first)
        // A clone of the same image (same host, same path, no file yet) gets an id of its own.
        try FileManager.default.removeItem(atPath: outbox + "/client-id")
        #expect(try AgentClientID.stored(in: outbox, host: "press-hall.plant.example") != first)
    }

    @Test func anUnusableFileIsReplaced() throws {
        let outbox = try TestPaths.scratch("outbox").path
        try Data("has spaces in it\n".utf8).write(to: URL(fileURLWithPath: outbox + "/client-id"))
        let id = try AgentClientID.stored(in: outbox, host: "edge-7")
        #expect(id.hasPrefix("moby-sensor-edge-7-"))
    }

    @Test func theHostPartIsPlain() {
        #expect(AgentClientID.plain("edge-7.plant.example") == "edge-7")
        #expect(AgentClientID.plain("ünï cöde") == "-n--c-de")
        #expect(AgentClientID.plain("") == "host")
    }
}
