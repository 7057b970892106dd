import Foundation
import Hummingbird
import HummingbirdAuth
import MQTT
import MobyCore
import NIOCore

/// `POST /publish` (the seed's endpoint): devices that speak HTTP rather than MQTT post a
/// reading (`Content-Type: application/json`, else 415); it passes the same `ReadingCheck` as
/// an MQTT message (422 with field errors) and is published to the device's topic with QoS 1.
/// 202 means the broker has it and ingest will store it. A device token publishes only for its
/// own device (403); each credential has its own rate (429 with `Retry-After`), so one noisy
/// client cannot crowd out the others.
struct PublishController<Context: AuthRequestContext<Principal>>: Sendable {
    let client: MQTTClient
    let readingCheck: ReadingCheck
    let fleet: FleetState
    let metrics: ServerMetrics
    let limit: RateLimit

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
        guard let principal = context.identity else { throw APIError.unauthorized("credentials needed") }
        if let wait = limit.take(principal.rateKey) {
            metrics.publishLimited.increment()
            var error = APIError(
                .tooManyRequests,
                "'\(principal.name)' publishes faster than \(Int(limit.rate)) readings/s; try again in \(wait.retryAfterSeconds) s"
            )
            error.headers[.retryAfter] = String(wait.retryAfterSeconds)
            throw error
        }
        guard Self.isJSON(request.headers[.contentType]) else {
            throw APIError(
                .unsupportedMediaType,
                "the body must be a JSON reading sent with Content-Type: application/json (got \(request.headers[.contentType].map { "'\($0.prefix(100))'" } ?? "none"))"
            )
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: ReadingDecoder.maxPayloadBytes)
        } catch {
            throw APIError(.contentTooLarge, "body larger than \(ReadingDecoder.maxPayloadBytes) bytes")
        }
        let result = body.withUnsafeReadableBytes {
            readingCheck.check($0, topicDeviceID: nil, receivedAt: WallClock.nanoseconds())
        }
        let reading: Reading
        switch result {
        case .success(let value): reading = value
        case .failure(let rejection):
            throw APIError(.unprocessableContent, "the reading is not valid", errors: rejection.errors)
        }
        var line = ByteBuffer()
        do {
            try reading.writeLine(anomalyScore: 0, into: &line)
        } catch {
            throw APIError(
                .unprocessableContent, "the reading is not valid",
                errors: [FieldError(field: "payload", message: error.description)])
        }
        if principal.role == .device, principal.device != reading.deviceID {
            throw APIError(
                .forbidden,
                "this token publishes for device '\(principal.device ?? "")' only, not '\(reading.deviceID)'")
        }
        if let refusal = fleet.admits(reading) {
            throw APIError(.unprocessableContent, "the reading is not valid", errors: refusal.rejection.errors)
        }
        let topic = ReadingTopic.topic(for: reading.deviceID)
        do {
            try await client.publish(topic: topic, payload: body, qos: .atLeastOnce, timeout: .seconds(5))
        } catch MQTTClientError.unacknowledged {
            throw APIError(
                .gatewayTimeout,
                "the reading was sent to the MQTT broker but not confirmed within 5 s; it may still be stored, so sending it again may store it twice"
            )
        } catch {
            throw APIError(.serviceUnavailable, "the MQTT broker did not take the reading: \(error)")
        }
        metrics.publishRequests.increment()
        return EditedResponse(status: .accepted, response: Accepted(deviceID: reading.deviceID, topic: topic))
    }

    /// `application/json`, with parameters (`; charset=utf-8`) or as a `+json` type.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let type =
            contentType.split(separator: ";", maxSplits: 1).first?.trimmingCharacters(in: .whitespaces)
            .lowercased() ?? ""
        return type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
    }
}
