import Foundation
import Hummingbird
import HummingbirdTesting
import MobyCore
import MobyTestSupport
import NIOCore
import Testing

@testable import MobyServer

/// `POST /publish` when the reading goes out to the broker but no acknowledgement comes back (the
/// link stalls without closing): once the publish's timeout has passed the device is told 504,
/// "sent but not confirmed", rather than waiting for good or being told the reading is lost.
@Suite(.timeLimit(.minutes(2))) struct PublishUnconfirmedTests {
    @Test func aPublishTheBrokerNeverConfirmsIsAnswered504() async throws {
        try await PipelineFixture.with { fixture in
            try await TCPProxy.with(targetPort: fixture.broker.port) { proxy in
                let configuration = try fixture.configuration(["moby.mqtt.url": "mqtt://127.0.0.1:\(proxy.port)"])
                let app = try await buildApplication(configuration: configuration, logger: testLogger())
                try await app.test(.live) { client in
                    try await waitUntilReady(client)
                    proxy.blackHole()
                    let started = ContinuousClock.now
                    try await client.execute(
                        uri: "/publish", method: .post, headers: [.contentType: "application/json"],
                        body: ByteBuffer(string: #"{"device_id":"press-9","temperature":71.5}"#)
                    ) { response in
                        #expect(response.status == .gatewayTimeout)
                        let text = String(buffer: response.body)
                        #expect(text.contains("not confirmed") && text.contains("twice"), "\(text)")
                    }
                    #expect(ContinuousClock.now - started < .seconds(30))
                    // The link comes back: the reading was in the session all along, and is stored.
                    proxy.heal()
                    try await eventually("the unconfirmed reading to be stored", timeout: .seconds(60)) {
                        try await fixture.storedCount() == 1
                    }
                }
            }
        }
    }
}
