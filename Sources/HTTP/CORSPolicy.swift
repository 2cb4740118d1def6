/// Cross-origin resource sharing (the Fetch standard's CORS protocol) for browser pages served
/// from other origins, such as dashboards that read the JSON.
///
/// The connection applies it (`ServerConfiguration.cors`): a preflight (OPTIONS with `Origin` and
/// `Access-Control-Request-Method`) from an allowed origin to a known path is answered 204 before
/// routing and before any route's `admit` runs, because browsers never send credentials on a
/// preflight; an actual response to an allowed origin gets `Access-Control-Allow-Origin` and
/// `Access-Control-Expose-Headers`. A request from any other origin gets no CORS headers at all, so
/// the browser withholds the response from that page. Credentials mode (cookies) is never allowed:
/// clients send `Authorization` themselves.
public struct CORSPolicy: Sendable, Equatable {
    public enum Origins: Sendable, Equatable {
        /// `*`: any origin (only sensible for an open, read-only deployment).
        case any
        /// Exactly these serialized origins (`scheme://host[:port]`, lower case).
        case exact(Set<String>)
    }

    public var origins: Origins
    /// Request headers a page may send (answered in `Access-Control-Allow-Headers`).
    public var allowedHeaders: [String]
    /// Response headers a page may read beyond the CORS-safelisted ones.
    public var exposedHeaders: [String]
    /// How long a browser may cache a preflight answer, in seconds.
    public var maxAge: Int

    public static let defaultAllowedHeaders = ["Authorization", "Content-Type", "Content-Encoding", "If-None-Match", "X-Request-Id"]
    public static let defaultExposedHeaders = ["ETag", "Location", "Retry-After", "X-Request-Id"]

    public init(origins: Origins, allowedHeaders: [String] = CORSPolicy.defaultAllowedHeaders,
                exposedHeaders: [String] = CORSPolicy.defaultExposedHeaders, maxAge: Int = 600) {
        self.origins = origins
        self.allowedHeaders = allowedHeaders
        self.exposedHeaders = exposedHeaders
        self.maxAge = maxAge
    }

    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// Reads a comma-separated list of exact origins (`https://dash.example.com,http://localhost:3000`)
    /// or `*`. Each origin is a scheme (http or https), a host and an optional port: no path, no
    /// query, no trailing slash, no wildcard inside (a browser sends exactly that serialization, and
    /// a pattern would be easy to get wrong).
    public static func parse(_ text: String) throws(Invalid) -> CORSPolicy {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { trimOWS($0) }
        if items == ["*"] { return CORSPolicy(origins: .any) }
        var set = Set<String>()
        for item in items {
            guard !item.isEmpty else { throw Invalid(description: "an origin in the list is empty (\"\(text)\")") }
            if item == "*" { throw Invalid(description: "* must be the only entry, not one of several origins") }
            set.insert(try origin(item))
        }
        return CORSPolicy(origins: .exact(set))
    }

    private static func origin(_ raw: String) throws(Invalid) -> String {
        let lower = raw.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") { rest = lower.dropFirst(8) }
        else if lower.hasPrefix("http://") { rest = lower.dropFirst(7) }
        else { throw Invalid(description: "origin \"\(raw)\" must start with http:// or https://") }
        // host[:port] only: letters, digits, '-', '.', ':' and IPv6 brackets.
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-.:[]")
        guard !rest.isEmpty, rest.allSatisfy(allowed.contains) else {
            throw Invalid(description: "origin \"\(raw)\" must be scheme://host[:port] with no path, query, wildcard or trailing slash")
        }
        return lower
    }

    /// Whether `origin` (the request's `Origin` header) may read responses.
    public func allows(_ origin: String) -> Bool {
        switch origins {
        case .any: return true
        case .exact(let set): return set.contains(origin.lowercased())
        }
    }

    /// A CORS preflight: OPTIONS naming the method the page wants to use (Fetch §4.8).
    static func isPreflight(method: String, headers: HTTPHeaders) -> Bool {
        method == "OPTIONS" && headers["Origin"] != nil && headers["Access-Control-Request-Method"] != nil
    }

    /// The answer to a preflight from an allowed `origin` on a path whose methods are `allow`
    /// (the `Allow` list: every method a page may use there).
    func preflightResponse(origin: String, allow: String) -> HTTPResponse {
        var response = HTTPResponse(status: 204, headers: ["Allow": allow])
        setAllowOrigin(&response, origin: origin)
        response.headers.set("Access-Control-Allow-Methods", allow)
        response.headers.set("Access-Control-Allow-Headers", allowedHeaders.joined(separator: ", "))
        response.headers.set("Access-Control-Max-Age", String(maxAge))
        return response
    }

    /// Adds the CORS headers to an actual response for a request that carried `origin` (nil: none).
    /// With a list of origins every response also says `Vary: Origin`, so a shared cache never
    /// hands one origin's answer to another.
    func decorate(_ response: inout HTTPResponse, origin: String?) {
        if case .exact = origins { addVaryOrigin(&response) }
        // A preflight answer already says all it needs (and exposes nothing: it has no body).
        guard let origin, allows(origin), response.headers["Access-Control-Allow-Methods"] == nil else { return }
        setAllowOrigin(&response, origin: origin)
        response.headers.set("Access-Control-Expose-Headers", exposedHeaders.joined(separator: ", "))
    }

    private func setAllowOrigin(_ response: inout HTTPResponse, origin: String) {
        switch origins {
        case .any:
            response.headers.set("Access-Control-Allow-Origin", "*")
        case .exact:
            // The request's own origin, as the browser sent it (it compares byte for byte).
            response.headers.set("Access-Control-Allow-Origin", origin)
            addVaryOrigin(&response)
        }
    }

    private func addVaryOrigin(_ response: inout HTTPResponse) {
        let vary = response.headers.listValues("Vary")
        if !vary.contains(where: { asciiCaseInsensitiveEquals($0, "Origin") || $0 == "*" }) {
            response.headers.add("Vary", "Origin")
        }
    }
}
