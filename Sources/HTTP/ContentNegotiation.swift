/// Accept-Encoding handling (RFC 9110 §12.5.3) and response compression.
enum ContentNegotiation {
    /// True when the client gives gzip (or "*") a non-zero quality. A missing header means the
    /// client said nothing, and we do not compress for it.
    static func acceptsGzip(_ headers: HTTPHeaders) -> Bool {
        var gzipQuality: Double?
        var wildcardQuality: Double?
        for element in headers.listValues("Accept-Encoding") {
            let parts = element.split(separator: ";")
            guard let first = parts.first else { continue }
            let coding = trimOWS(first).lowercased()
            var quality = 1.0
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1)
                if pair.count == 2, trimOWS(pair[0]).lowercased() == "q" {
                    quality = Double(trimOWS(pair[1])) ?? 0
                }
            }
            if coding == "gzip" || coding == "x-gzip" {
                gzipQuality = max(gzipQuality ?? 0, quality)
            } else if coding == "*" {
                wildcardQuality = quality
            }
        }
        if let gzipQuality { return gzipQuality > 0 }
        if let wildcardQuality { return wildcardQuality > 0 }
        return false
    }

    /// Gzip-encodes `response` in place when it is worth it and the client accepts it; marks any
    /// response whose encoding depends on Accept-Encoding with `Vary`.
    static func compressIfAccepted(_ response: inout HTTPResponse, requestHeaders: HTTPHeaders,
                                   threshold: Int, level: Int32) {
        if needsCompression(&response, requestHeaders: requestHeaders, threshold: threshold) {
            compress(&response, level: level)
        }
    }

    /// The cheap half of `compressIfAccepted`: adds `Vary: Accept-Encoding` where the encoding
    /// depends on it, and says whether the body is to be gzip-encoded (`compress`).
    static func needsCompression(_ response: inout HTTPResponse, requestHeaders: HTTPHeaders, threshold: Int) -> Bool {
        guard response.status >= 200, response.status != 204, response.status != 304,
              response.body.count >= threshold, response.headers["Content-Encoding"] == nil else { return false }
        var varies = false
        for field in response.headers where asciiCaseInsensitiveEquals(field.name, "Vary") {
            for element in field.value.split(separator: ",") {
                let token = trimOWS(element)
                if token == "*" || asciiCaseInsensitiveEquals(token, "accept-encoding") { varies = true }
            }
        }
        if !varies { response.headers.add("Vary", "Accept-Encoding") }
        return requestHeaders.contains("Accept-Encoding") && acceptsGzip(requestHeaders)
    }

    /// Gzip-encodes the body unless that would not make it smaller.
    static func compress(_ response: inout HTTPResponse, level: Int32) {
        guard let compressed = gzipCompress(response.body, level: level), compressed.count < response.body.count else { return }
        response.body = compressed
        response.headers.set("Content-Encoding", "gzip")
    }
}
