import Foundation
import Testing

@testable import Edge

@Suite struct AgentClientIDTests {
    @Test func theSameOutboxGivesTheSameIdAnotherOutboxAnother() {
        let here = FileManager.default.currentDirectoryPath
        let relative = AgentClientID.forOutbox("var/sensor-outbox", host: "press-hall")
        #expect(relative == AgentClientID.forOutbox(here + "/var/sensor-outbox", host: "press-hall"))
        #expect(relative == AgentClientID.forOutbox(here + "/var/./sensor-outbox/", host: "press-hall"))
        #expect(relative != AgentClientID.forOutbox("var/other-outbox", host: "press-hall"))
        #expect(relative != AgentClientID.forOutbox("var/sensor-outbox", host: "paint-hall"))
        #expect(relative.hasPrefix("moby-sensor-press-hall-") && relative.count == "moby-sensor-press-hall-".count + 8)
    }

    @Test func theHostPartIsPlain() {
        #expect(AgentClientID.forOutbox("/o", host: "edge-7.plant.example").hasPrefix("moby-sensor-edge-7-"))
        #expect(AgentClientID.forOutbox("/o", host: "ünï cöde").hasPrefix("moby-sensor--n--c-de-"))
        #expect(AgentClientID.forOutbox("/o", host: "").hasPrefix("moby-sensor-host-"))
    }
}
