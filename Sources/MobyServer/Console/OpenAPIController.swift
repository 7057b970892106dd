import Foundation
import Hummingbird
import Logging

/// `GET /openapi.json`: the HTTP API's OpenAPI 3.1 document (`api/openapi.json`, installed as
/// `share/moby/openapi.json`), read once at start; open to anyone, like the console's files.
struct OpenAPIController<Context: RequestContext>: Sendable {
    /// The document's bytes, or why there is none.
    let document: Result<ByteBuffer, APIError>

    /// Reads the document found beside the checkout or the installed executable.
    static func load(installed: InstalledFiles, logger: Logger) -> OpenAPIController {
        let places = installed.candidates(checkout: "api/openapi.json", installed: "openapi.json")
        guard let path = installed.locate(checkout: "api/openapi.json", installed: "openapi.json"),
            let data = FileManager.default.contents(atPath: path)
        else {
            logger.warning("no OpenAPI document; /openapi.json answers 404", metadata: ["looked_in": "\(places)"])
            return OpenAPIController(
                document: .failure(
                    APIError(
                        .notFound, "the OpenAPI document is not installed (looked in \(places.joined(separator: ", ")))"
                    )))
        }
        return OpenAPIController(document: .success(ByteBuffer(data: data)))
    }

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("/openapi.json") { _, _ -> Response in
            let body = try document.get()
            return Response(
                status: .ok,
                headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-cache"],
                body: .init(byteBuffer: body))
        }
        return routes
    }
}
