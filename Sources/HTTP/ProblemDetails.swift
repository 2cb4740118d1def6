import Foundation

/// RFC 9457 `application/problem+json` bodies.
enum ProblemDetails {
    static func encode(status: Int, title: String, detail: String?, type: String, extensions: [String: Any]) -> [UInt8] {
        var object: [String: Any] = [:]
        for (key, value) in extensions where JSONSerialization.isValidJSONObject([key: value]) {
            object[key] = value
        }
        // The standard members win over extensions of the same name.
        object["type"] = type
        object["title"] = title
        object["status"] = status
        if let detail { object["detail"] = detail }
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) {
            return [UInt8](data)
        }
        return Array("{\"type\":\"about:blank\",\"status\":\(status)}".utf8)
    }
}
