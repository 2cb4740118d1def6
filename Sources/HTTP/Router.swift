/// Handler for one request. Runs on a Dispatch worker, never on an I/O thread, so it may block.
public typealias HTTPHandler = @Sendable (HTTPRequest) -> HTTPResponse

/// Method + path-template routing. `{name}` matches exactly one non-empty path segment; literal
/// segments win over parameters. Unknown paths get 404, known paths with another method 405 with
/// `Allow`; HEAD falls back to GET and OPTIONS is answered automatically.
public final class Router: @unchecked Sendable {
    private enum Segment: Equatable {
        case literal(String)
        case parameter(String)
    }

    private struct Route {
        var method: String
        var template: String
        var segments: [Segment]
        var encodedBody: Bool
        var handler: HTTPHandler
    }

    private let lock = LockedValue<[Route]>([])

    public init() {}

    /// Registers `handler` for `method` on `template` (e.g. "/v1/fits/{id}").
    ///
    /// - encodedBody: hand this route a gzip body still compressed (`HTTPRequest.bodyIsGzip`), for a
    ///   handler that inflates it as it parses (`GzipBodyDecoder`) instead of waiting for the I/O
    ///   thread to inflate all of it first. Other routes get bodies already inflated.
    public func add(_ method: String, _ template: String, encodedBody: Bool = false, _ handler: @escaping HTTPHandler) {
        let segments = Router.split(template).map { part -> Segment in
            if part.hasPrefix("{") && part.hasSuffix("}") && part.count > 2 {
                return .parameter(String(part.dropFirst().dropLast()))
            }
            return .literal(part)
        }
        let route = Route(method: method.uppercased(), template: template, segments: segments, encodedBody: encodedBody,
                          handler: handler)
        lock.withLock { $0.append(route) }
    }

    /// Every registered (method, template), in registration order.
    public var routes: [(method: String, template: String)] {
        lock.withLock { $0.map { (method: $0.method, template: $0.template) } }
    }

    private static func split(_ path: Substring) -> [String] {
        var parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.first == "" { parts.removeFirst() }
        return parts
    }

    private static func split(_ path: String) -> [String] { split(Substring(path)) }

    /// Answers `request`: runs the matching handler or produces 404/405/OPTIONS responses.
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        var request = request
        if request.rawPath == "*" {
            guard request.method == "OPTIONS" else { return Router.notFound(request.path) }
            let methods = Set(lock.withLock { $0.map(\.method) })
            return HTTPResponse(status: 204, headers: ["Allow": Router.allowValue(methods)])
        }
        guard let decoded = Router.decodedSegments(request.rawPath) else {
            return .problem(status: 400, title: "Bad Request", detail: "malformed percent-encoding in path")
        }
        let routes = lock.withLock { $0 }
        if let found = Router.best(routes, method: request.method, decoded) {
            request.pathParameters = found.parameters
            return found.route.handler(request)
        }
        // No handler for this method: 404, or 405/OPTIONS listing the methods the path has.
        var methods = Set<String>()
        for route in routes where Router.match(route.segments, decoded) != nil { methods.insert(route.method) }
        if methods.isEmpty { return Router.notFound(request.path) }
        let allow = Router.allowValue(methods)
        if request.method == "OPTIONS" {
            return HTTPResponse(status: 204, headers: ["Allow": allow])
        }
        return .problem(status: 405, title: "Method Not Allowed",
                        detail: "\(request.method) is not allowed on \(request.path); allowed: \(allow)",
                        headers: ["Allow": allow])
    }

    /// Whether the route that will answer (method, rawPath) takes its body still encoded.
    func takesEncodedBody(method: String, rawPath: String) -> Bool {
        guard rawPath != "*", let decoded = Router.decodedSegments(rawPath) else { return false }
        return Router.best(lock.withLock { $0 }, method: method, decoded)?.route.encodedBody ?? false
    }

    private static func decodedSegments(_ rawPath: String) -> [String]? {
        var decoded: [String] = []
        for raw in Router.split(rawPath) {
            guard let segment = try? percentDecode(raw, plusAsSpace: false) else { return nil }
            decoded.append(segment)
        }
        return decoded
    }

    /// The best match for the method (HEAD falls back to GET): fewest parameters, i.e. most literal segments.
    private static func best(_ routes: [Route], method: String, _ decoded: [String]) -> (route: Route, parameters: [String: String])? {
        let isHead = method == "HEAD"
        var best: (route: Route, parameters: [String: String])?
        var bestIsExact = false
        for route in routes {
            let exact = route.method == method
            guard exact || (isHead && route.method == "GET") else { continue }
            guard let parameters = Router.match(route.segments, decoded) else { continue }
            if let current = best {
                // An explicit HEAD route beats GET; otherwise prefer fewer parameters.
                if bestIsExact && !exact { continue }
                if bestIsExact == exact && current.parameters.count <= parameters.count { continue }
            }
            best = (route, parameters)
            bestIsExact = exact
        }
        return best
    }

    private static func notFound(_ path: String) -> HTTPResponse {
        .problem(status: 404, title: "Not Found", detail: "no resource at \(path)")
    }

    private static func allowValue(_ methods: Set<String>) -> String {
        var all = methods
        if all.contains("GET") { all.insert("HEAD") }
        all.insert("OPTIONS")
        return all.sorted().joined(separator: ", ")
    }

    private static func match(_ template: [Segment], _ path: [String]) -> [String: String]? {
        guard template.count == path.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, value) in zip(template, path) {
            switch segment {
            case .literal(let literal):
                if literal != value { return nil }
            case .parameter(let name):
                if value.isEmpty { return nil }
                parameters[name] = value
            }
        }
        return parameters
    }
}
