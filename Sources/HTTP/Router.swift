import Synchronization

/// Handler for one request. Runs on a Dispatch worker, so it may block, unless its route is marked
/// `RoutePolicy.nonBlocking` (then on the I/O thread that read the request).
public typealias HTTPHandler = @Sendable (HTTPRequest) -> HTTPResponse

/// Method + path-template routing. `{name}` matches exactly one non-empty path segment; literal
/// segments win over parameters. Unknown paths get 404; a known path asked with a method it has no
/// route for gets 405 with `Allow`, whatever the method token (see `resolve`). HEAD falls back to
/// GET and OPTIONS is answered automatically.
///
/// The server resolves a request once, from its head (`resolve`), applies the route's `RoutePolicy`
/// and later calls `run` on a handler thread; `handle` does all of that in one call for in-process use.
public final class Router: Sendable {
    enum Segment: Equatable, Sendable {
        case literal(String)
        case parameter(String)
    }

    /// A class, so that handing a resolved route around costs one reference count, not one per field.
    final class Route: Sendable {
        let method: String
        let template: String
        let segments: [Segment]
        let policy: RoutePolicy
        let handler: HTTPHandler

        init(method: String, template: String, segments: [Segment], policy: RoutePolicy, handler: @escaping HTTPHandler) {
            self.method = method
            self.template = template
            self.segments = segments
            self.policy = policy
            self.handler = handler
        }
    }

    /// What a request head resolves to: a route to run, or the answer itself (404, 405, OPTIONS,
    /// 400 for a malformed percent-encoding), which never needs the body.
    enum Resolution {
        case route(Route, parameters: [String: String])
        case answer(HTTPResponse)
    }

    /// The routes in registration order, and the routes without parameters by method and path
    /// (the template's segments joined, with one leading "/"): a request whose raw path has no
    /// percent-encoding and equals one of those paths needs no segment-by-segment search.
    struct Table: Sendable {
        var routes: [Route] = []
        var literal: [String: [String: Route]] = [:]
        /// The routes in registration order by their number of segments: a path is matched only
        /// against templates as long as it is (the rest cannot match).
        var bySegmentCount: [Int: [Route]] = [:]

        /// The same table with route objects of its own: a loop that resolves against it counts
        /// references on objects no other loop touches (no cache line shared between cores).
        func ownCopy() -> Table {
            var copies: [ObjectIdentifier: Route] = [:]
            func copy(_ route: Route) -> Route {
                if let made = copies[ObjectIdentifier(route)] { return made }
                let made = Route(method: route.method, template: route.template, segments: route.segments,
                                 policy: route.policy, handler: route.handler)
                copies[ObjectIdentifier(route)] = made
                return made
            }
            return Table(routes: routes.map(copy), literal: literal.mapValues { $0.mapValues(copy) },
                         bySegmentCount: bySegmentCount.mapValues { $0.map(copy) })
        }
    }

    /// An event loop's own copy of the table, so resolving takes no lock; refreshed (`refresh`) when
    /// a route has been added since.
    struct TableCopy {
        var revision = -1
        var table = Table()
    }

    private let table = Lock<Table>(Table())
    private let revision = Atomic<Int>(0)
    /// Headers the application puts on every response, added to every answer decided from the request
    /// head, which no handler sees: the router's own (404, 405, OPTIONS, a malformed path's 400) and a
    /// route's `admit` refusals. Given the request's headers.
    private let answerHeaders = Lock<(@Sendable (HTTPHeaders) -> [(String, String)])?>(nil)

    public init() {}

    /// Sets the headers added to the answers decided from the head (the service's `X-Request-Id`, so
    /// that a 404 or a 401 can be found in the log like any other response).
    public func addToAnswers(_ headers: @escaping @Sendable (_ requestHeaders: HTTPHeaders) -> [(String, String)]) {
        answerHeaders.withLock { $0 = headers }
    }

    /// `response`, one of the router's own answers, with the application's headers added.
    func decorated(_ response: HTTPResponse, requestHeaders: HTTPHeaders) -> HTTPResponse {
        guard let extra = answerHeaders.withLock({ $0 }) else { return response }
        var response = response
        for (name, value) in extra(requestHeaders) { response.headers.set(name, value) }
        return response
    }

    /// Registers `handler` for `method` on `template` (e.g. "/v1/fits/{id}") with what the route
    /// accepts (`policy`: body limits, gzip handling, admission check from the head).
    public func add(_ method: String, _ template: String, policy: RoutePolicy = RoutePolicy(),
                    _ handler: @escaping HTTPHandler) {
        let segments = Router.split(template).map { part -> Segment in
            if part.hasPrefix("{") && part.hasSuffix("}") && part.count > 2 {
                return .parameter(String(part.dropFirst().dropLast()))
            }
            return .literal(part)
        }
        let route = Route(method: method.uppercased(), template: template, segments: segments, policy: policy,
                          handler: handler)
        table.withLock { table in
            table.routes.append(route)
            table.bySegmentCount[segments.count, default: []].append(route)
            var parts: [String] = []
            for segment in segments {
                guard case .literal(let text) = segment else { return }
                parts.append(text)
            }
            guard !parts.isEmpty else { return }
            let literalPath = "/" + parts.joined(separator: "/")
            // The first route registered for a method and template wins, as in the full search.
            if table.literal[route.method]?[literalPath] == nil { table.literal[route.method, default: [:]][literalPath] = route }
        }
        revision.add(1, ordering: .releasing)
    }

    /// Brings `copy` up to date with the routes added since it was made.
    func refresh(_ copy: inout TableCopy) {
        let current = revision.load(ordering: .acquiring)
        guard current != copy.revision else { return }
        copy.table = table.withLock { $0 }.ownCopy()
        copy.revision = current
    }

    /// Every registered (method, template), in registration order.
    public var routes: [(method: String, template: String)] {
        table.withLock { $0.routes.map { (method: $0.method, template: $0.template) } }
    }

    private static func split(_ path: Substring) -> [String] {
        // By UTF-8 byte: "/" is one byte and never part of another character, and splitting the
        // characters would cost a grapheme-break check per character on every request.
        var parts = path.utf8.split(separator: 0x2F, omittingEmptySubsequences: false).map { String(Substring($0)) }
        if parts.first == "" { parts.removeFirst() }
        return parts
    }

    private static func split(_ path: String) -> [String] { split(Substring(path)) }

    /// Answers `request` in one call, as the server would: resolves it, applies the route's policy
    /// (`admit`, then `maxBodyBytes` against the body held; a nil decoded limit keeps
    /// `request.maxDecodedBodyBytes`), tries the route's answer from memory (`RoutePolicy.fromMemory`),
    /// inflates a gzip body unless the route takes it encoded, and runs the handler.
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        var request = request
        switch resolve(method: request.method, rawPath: request.rawPath, path: request.path) {
        case .answer(let response):
            return decorated(response, requestHeaders: request.headers)
        case .route(let route, let parameters):
            request.pathParameters = parameters
            if let admit = route.policy.admit, let refusal = admit(request) {
                return decorated(refusal, requestHeaders: request.headers)
            }
            if let limit = route.policy.maxBodyBytes, request.body.count > limit {
                return Router.tooLarge(request.body.count, limit)
            }
            if let decoded = route.policy.maxDecodedBodyBytes { request.maxDecodedBodyBytes = decoded }
            if !request.bodyIsGzip || route.policy.encodedBody, let fromMemory = route.policy.fromMemory,
               let answer = fromMemory(request) {
                return answer
            }
            return run(route, request)
        }
    }

    /// Finds what answers (method, path) without looking at a body. Any method token that no route
    /// on a known path has gets 405 with `Allow`, standard or not: the path exists, and the client
    /// learns what it may do there (RFC 9110 §15.5.6). 501 is left for what the server cannot do
    /// at all (an unknown transfer coding).
    func resolve(method: String, rawPath: String, path: String) -> Resolution {
        resolve(method: method, rawPath: rawPath, path: path, in: table.withLock { $0 })
    }

    func resolve(method: String, rawPath: String, path: String, in table: Table) -> Resolution {
        // A route without parameters, asked with its own method, is the best match there can be
        // (HEAD falls back to GET only where no HEAD route matches, so it takes the full search).
        if rawPath.utf8.first == 0x2F, !rawPath.utf8.contains(0x25), let found = table.literal[method]?[rawPath] {
            return .route(found, parameters: [:])
        }
        let routes = table.routes
        if rawPath == "*" {
            guard method == "OPTIONS" else { return .answer(Router.notFound(path)) }
            let methods = Set(routes.map(\.method))
            return .answer(HTTPResponse(status: 204, headers: ["Allow": Router.allowValue(methods)]))
        }
        guard let decoded = Router.decodedSegments(rawPath) else {
            return .answer(.problem(status: 400, title: "Bad Request", detail: "malformed percent-encoding in path"))
        }
        if let found = Router.best(table.bySegmentCount[decoded.count] ?? [], method: method, decoded) {
            return .route(found.route, parameters: found.parameters)
        }
        // No handler for this method: 404, or 405/OPTIONS listing the methods the path has.
        var methods = Set<String>()
        for route in routes where Router.match(route.segments, decoded) != nil { methods.insert(route.method) }
        if methods.isEmpty { return .answer(Router.notFound(path)) }
        let allow = Router.allowValue(methods)
        if method == "OPTIONS" {
            return .answer(HTTPResponse(status: 204, headers: ["Allow": allow]))
        }
        return .answer(.problem(status: 405, title: "Method Not Allowed",
                                detail: "\(method) is not allowed on \(path); allowed: \(allow)",
                                headers: ["Allow": allow]))
    }

    /// The `Allow` value of the path (its methods, with HEAD and OPTIONS), or nil when no route
    /// matches it: what a CORS preflight answers with in `Access-Control-Allow-Methods`.
    func allowedMethods(rawPath: String) -> String? {
        guard rawPath != "*", let decoded = Router.decodedSegments(rawPath) else { return nil }
        var methods = Set<String>()
        for route in table.withLock({ $0.routes }) where Router.match(route.segments, decoded) != nil { methods.insert(route.method) }
        return methods.isEmpty ? nil : Router.allowValue(methods)
    }

    /// Runs `route` for a request whose head passed its policy. Called on a handler thread: a gzip
    /// body is inflated here (within `request.maxDecodedBodyBytes`) unless the route takes it encoded.
    func run(_ route: Route, _ request: HTTPRequest) -> HTTPResponse {
        var request = request
        if request.bodyIsGzip && !route.policy.encodedBody {
            do {
                request.body = try Router.inflate(request.body, limit: request.maxDecodedBodyBytes)
                request.bodyIsGzip = false
            } catch {
                // A bomb or a corrupt body: answer and close, as for any refused body.
                return .problem(status: error.status, title: StatusPhrase.phrase(error.status), detail: error.detail,
                                headers: ["Connection": "close"])
            }
        }
        return route.handler(request)
    }

    /// Inflates a whole gzip body, refusing (413) as soon as the output passes `limit`.
    static func inflate(_ body: [UInt8], limit: Int) throws(HTTPParseError) -> [UInt8] {
        let inflater = try GzipInflater(maxOutputBytes: limit)
        var output: [UInt8] = []
        try body.withUnsafeBufferPointer { bytes throws(HTTPParseError) in try inflater.feed(bytes, into: &output) }
        try inflater.finish()
        return output
    }

    static func tooLarge(_ length: Int, _ limit: Int) -> HTTPResponse {
        .problem(status: 413, title: StatusPhrase.phrase(413), detail: "body of \(length) bytes exceeds the limit of \(limit)")
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
