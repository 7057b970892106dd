import Hummingbird
import MobyCore

/// The body of `PUT /api/v1/devices/{id}`: `{"name", "location", "line", "profile", "labels"}`,
/// each checked with a field error (422) that says what is wrong; a field left out is cleared
/// (the body is the whole entry), a missing profile is `default`.
enum DeviceMetaBody {
    static let fields: Set = ["name", "location", "line", "profile", "labels"]

    static func parse(_ document: JSONValue, catalog: SensorCatalog) throws -> DeviceMetaChange {
        guard case .object(let members) = document else {
            throw APIError(.badRequest, "the body must be a JSON object, got \(document.typeName)")
        }
        var errors: [FieldError] = []
        var change = DeviceMetaChange(profile: SensorCatalog.defaultProfile, labels: [:])
        for (key, value) in members {
            switch key {
            case "name":
                change.name = text(value, field: key, errors: &errors) { name in
                    name.utf8.count > 128
                        ? "at most 128 bytes"
                        : name.unicodeScalars.contains { $0.properties.generalCategory == .control }
                            ? "must not contain control characters" : nil
                }
            case "location", "line":
                let tag = text(value, field: key, errors: &errors, TagValue.problem)
                if key == "location" { change.location = tag } else { change.line = tag }
            case "profile":
                guard case .string(let name) = value else {
                    errors.append(FieldError(field: key, message: "expected a string, got \(value.typeName)"))
                    continue
                }
                guard catalog.profile(named: name) != nil else {
                    errors.append(
                        FieldError(
                            field: key,
                            message:
                                "'\(name.prefix(64))' is not a profile of the catalog; known: \(catalog.profileNames.joined(separator: ", "))"
                        ))
                    continue
                }
                change.profile = name
            case "labels":
                if case .null = value { continue }
                guard case .object(let labels) = value else {
                    errors.append(
                        FieldError(field: key, message: "expected an object of strings, got \(value.typeName)"))
                    continue
                }
                for (label, labelValue) in labels {
                    guard catalog.deviceLabels.contains(label) else {
                        errors.append(
                            FieldError(
                                field: "labels.\(label.prefix(64))",
                                message:
                                    "not an allowed label key; allowed: \(catalog.deviceLabels.joined(separator: ", "))"
                            ))
                        continue
                    }
                    if let text = text(labelValue, field: "labels.\(label)", errors: &errors, TagValue.problem) {
                        change.labels[label] = text
                    }
                }
            default:
                errors.append(
                    FieldError(
                        field: String(key.prefix(64)),
                        message: "unknown field; expected \(fields.sorted().joined(separator: ", "))"))
            }
        }
        guard errors.isEmpty else {
            throw APIError(.unprocessableContent, "the device cannot be changed so", errors: errors)
        }
        return change
    }

    /// A string or null; a field error for anything else or when `problem` objects.
    private static func text(
        _ value: JSONValue, field: String, errors: inout [FieldError], _ problem: (String) -> String?
    ) -> String? {
        switch value {
        case .null: return nil
        case .string(let text):
            if text.isEmpty { return nil }
            if let reason = problem(text) {
                errors.append(FieldError(field: field, message: reason))
                return nil
            }
            return text
        default:
            errors.append(FieldError(field: field, message: "expected a string or null, got \(value.typeName)"))
            return nil
        }
    }
}
