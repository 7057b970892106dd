import Hummingbird
import MQTT
import MobyCore
import NIOCore

/// `POST /publish` (the seed's endpoint): devices that speak HTTP rather than MQTT post a
/// reading; it is validated like any MQTT message (422 with field errors) and published to the
/// device's topic with QoS 1. 202 means the broker has it.
struct PublishController<Context: RequestContext>: Sendable {
    let client: MQTTClient
    let decoder: ReadingDecoder
    let metrics: ServerMetrics

    struct Accepted: ResponseEncodable {
        var status = "accepted"
        var deviceID: String
        var topic: String

        enum CodingKeys: String, CodingKey {
            case status
            case deviceID = "device_id"
            case topic
        }
    }

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post("/publish") { request, context in try await publish(request, context: context) }
        return routes
    }

    private func publish(_ request: Request, context: Context) async throws -> EditedResponse<Accepted> {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: ReadingDecoder.maxPayloadBytes)
        } catch {
            throw APIError(.contentTooLarge, "body larger than \(ReadingDecoder.maxPayloadBytes) bytes")
        }
        let result = body.withUnsafeReadableBytes {
            decoder.decode($0, topicDeviceID: nil, receivedAt: WallClock.nanoseconds())
        }
        let reading: Reading
        switch result {
        case .success(let value): reading = value
        case .failure(let rejection):
            throw APIError(.unprocessableContent, "the reading is not valid", errors: rejection.errors)
        }
        let topic = ReadingTopic.topic(for: reading.deviceID)
        do {
            try await client.publish(topic: topic, payload: body, qos: .atLeastOnce, timeout: .seconds(5))
        } catch {
            throw APIError(.serviceUnavailable, "the MQTT broker did not take the reading: \(error)")
        }
        metrics.publishRequests.increment()
        return EditedResponse(status: .accepted, response: Accepted(deviceID: reading.deviceID, topic: topic))
    }
}
