import Hummingbird
import MobyCore

/// `GET /api/v1/catalog`: the sensor catalog as the server uses it (units, ranges, nominal and
/// scale, warning/critical limits, score limits), for the UI's threshold lines.
struct CatalogController<Context: RequestContext>: Sendable {
    let catalog: SensorCatalog

    struct Limits: Codable {
        var low: Double?
        var high: Double?
    }

    struct MetricDocument: Codable {
        var metric: String
        var unit: String
        var valid: [Double]
        var nominal: Double?
        var scale: Double?
        var warning: Limits
        var critical: Limits
    }

    struct ScoreLimits: Codable {
        var warning: Double
        var critical: Double
    }

    struct ProfileDocument: Codable {
        var score: ScoreLimits
        var metrics: [MetricDocument]
    }

    /// The default catalog's score and metrics at the top (as before profiles), every profile
    /// resolved under `profiles` (`default` included), and the allowed label keys.
    struct CatalogDocument: ResponseEncodable {
        var score: ScoreLimits
        var metrics: [MetricDocument]
        var profiles: [String: ProfileDocument]
        var deviceLabels: [String]

        enum CodingKeys: String, CodingKey {
            case score, metrics, profiles
            case deviceLabels = "device_labels"
        }
    }

    static func profile(_ catalog: SensorCatalog) -> ProfileDocument {
        ProfileDocument(
            score: ScoreLimits(warning: catalog.score.warning, critical: catalog.score.critical),
            metrics: Metric.allCases.compactMap { catalog[$0] }.map { entry in
                MetricDocument(
                    metric: entry.metric.name, unit: entry.unit,
                    valid: [entry.validRange.lowerBound, entry.validRange.upperBound], nominal: entry.nominal,
                    scale: entry.scale, warning: Limits(low: entry.warning.low, high: entry.warning.high),
                    critical: Limits(low: entry.critical.low, high: entry.critical.high))
            })
    }

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        let base = Self.profile(catalog)
        let document = CatalogDocument(
            score: base.score, metrics: base.metrics,
            profiles: Dictionary(
                uniqueKeysWithValues: catalog.profileNames.compactMap { name in
                    catalog.profile(named: name).map { (name, Self.profile($0)) }
                }),
            deviceLabels: catalog.deviceLabels)
        routes.get("/api/v1/catalog") { _, _ in document }
        return routes
    }
}
