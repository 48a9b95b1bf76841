import HTTPTypes
import Hummingbird
import LinkTrack
import LinkTrackServerCore
import Logging
import NIOCore

/// The SES v2 control API on the admin listener: every method on `/v2/**` goes to
/// ``ControlAPI/respond(to:)`` with the request as it arrived (raw path and query, every header,
/// `host` from the request's authority, the whole body up to `bodyLimit` bytes).
///
/// Only ever add these to the admin router, never to a redirect domain's.
public func addControlAPIRoutes<Context: RequestContext>(to router: Router<Context>, api: ControlAPI, bodyLimit: Int = 1 << 20) {
    let handler: @Sendable (Request, Context) async throws -> Response = { request, context in
        await controlAPIResponse(request, context: context, api: api, bodyLimit: bodyLimit)
    }
    for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch] {
        router.on("/v2/**", method: method, use: handler)
    }
}

/// Builds the ``ControlAPI`` for a running server: its settings from the configuration in force
/// (and again on each reload), its ``ConfigurationFile`` on the configuration's path, whose
/// changes reload the server's own view before the client gets its answer.
///
/// Settings that do not parse (a `SecretAccessKeyEnvironmentVariable` not set, say) are logged
/// and leave the API refusing every request, or the previous settings in force; the redirect
/// listener is never stopped for them.
public func makeControlAPI(configuration: LiveConfiguration, logger: Logger) -> ControlAPI {
    let settings: @Sendable (JSONValue) -> ControlAPISettings? = { document in
        do {
            return try ControlAPISettings(document: document)
        } catch {
            logger.error("the control API's settings are not valid; keeping the previous ones (none at start: every request is refused)",
                         metadata: ["error": .string("\(error)")])
            return nil
        }
    }
    let file = ConfigurationFile(path: configuration.path, onChange: {
        configuration.reload(reason: "control API")
    })
    let api = ControlAPI(settings: settings(configuration.configuration.document) ?? ControlAPISettings(secretAccessKeys: [:]), file: file)
    configuration.onChange { new in
        if let s = settings(new.document) { api.update(settings: s) }
    }
    return api
}

func controlAPIResponse<Context: RequestContext>(_ request: Request, context: Context, api: ControlAPI, bodyLimit: Int) async -> Response {
    var headers: [(name: String, value: String)] = []
    if let authority = request.head.authority { headers.append((name: "host", value: authority)) }
    for field in request.headers { headers.append((name: field.name.rawName, value: field.value)) }

    let body: ByteBuffer
    do {
        body = try await request.body.collect(upTo: bodyLimit)
    } catch {
        context.logger.info("control API request refused: body too large or unreadable", metadata: ["error": .string("\(error)")])
        let message = #"{"message":"The request body is larger than \#(bodyLimit) bytes or could not be read."}"#
        return Response(status: .contentTooLarge,
                        headers: [.contentType: "application/json", HTTPField.Name("X-Amzn-ErrorType")!: "RequestEntityTooLargeException"],
                        body: .init(byteBuffer: ByteBuffer(string: message)))
    }

    let response = await api.respond(to: ControlAPIRequest(
        method: request.method.rawValue, rawPath: request.uri.path, rawQuery: request.uri.query ?? "",
        headers: headers, body: Array(buffer: body)))

    var fields = HTTPFields()
    for (name, value) in response.headers {
        if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
    }
    fields[.contentLength] = String(response.body.count)
    var metadata: Logger.Metadata = ["status": .stringConvertible(response.status), "method": .string(request.method.rawValue),
                                     "path": .string(request.uri.path)]
    if let operation = response.operation { metadata["operation"] = .string(operation) }
    if let key = response.accessKeyId { metadata["accessKeyId"] = .string(key) }
    if let code = response.header("X-Amzn-ErrorType") { metadata["error"] = .string(code) }
    context.logger.info("control API request", metadata: metadata)
    return Response(status: HTTPResponse.Status(code: response.status), headers: fields,
                    body: .init(byteBuffer: ByteBuffer(bytes: response.body)))
}
