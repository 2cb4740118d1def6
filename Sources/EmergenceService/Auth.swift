import Ingestion

/// What a bearer token may do. Each scope includes the ones before it.
public enum Scope: Int, Comparable, Sendable, CaseIterable {
    case read = 1, write, admin

    public static func < (a: Scope, b: Scope) -> Bool { a.rawValue < b.rawValue }

    init?(name: String) {
        switch name.lowercased() {
        case "read": self = .read
        case "write": self = .write
        case "admin": self = .admin
        default: return nil
        }
    }

    var name: String {
        switch self {
        case .read: return "read"
        case .write: return "write"
        case .admin: return "admin"
        }
    }
}

/// The configured tokens (`EMERGENCE_TOKENS`): `TOKEN:SCOPE` entries separated by commas, spaces or
/// newlines, e.g. `s3cret-reader:read,s3cret-ci:write,s3cret-ops:admin`.
public struct TokenSet: Sendable {
    private var entries: [(token: [UInt8], scope: Scope)]

    public init(entries: [(token: String, scope: Scope)]) {
        self.entries = entries.map { (Array($0.token.utf8), $0.scope) }
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Parses the environment value. Errors never echo a token, only its position.
    public static func parse(_ text: String) throws -> TokenSet {
        var out: [(String, Scope)] = []
        let items = text.split { $0 == "," || $0 == " " || $0 == "\n" || $0 == "\t" || $0 == ";" }
        for (i, item) in items.enumerated() {
            guard let colon = item.lastIndex(of: ":") else {
                throw ParseError(description: "EMERGENCE_TOKENS entry \(i + 1) has no scope: write TOKEN:read, TOKEN:write or TOKEN:admin")
            }
            let token = String(item[..<colon])
            guard let scope = Scope(name: String(item[item.index(after: colon)...])) else {
                throw ParseError(description: "EMERGENCE_TOKENS entry \(i + 1) has an unknown scope (use read, write or admin)")
            }
            guard token.utf8.count >= 16 else {
                throw ParseError(description: "EMERGENCE_TOKENS entry \(i + 1): tokens must be at least 16 characters")
            }
            // The same token twice is refused: with two scopes, which one it has would depend on
            // the order of the list, and a copy-paste slip should not widen or narrow access silently.
            if out.contains(where: { $0.0 == token }) {
                throw ParseError(description: "EMERGENCE_TOKENS entry \(i + 1) repeats an earlier token; list each token once, with its highest scope")
            }
            out.append((token, scope))
        }
        return TokenSet(entries: out)
    }

    /// The scope of `presented`, comparing against every token in constant time (no early exit on the
    /// first differing byte, nor on the first match), so timing does not reveal a token's prefix.
    public func scope(of presented: String) -> Scope? {
        let p = Array(presented.utf8)
        var found = 0
        for (token, scope) in entries {
            let equal = Self.constantTimeEquals(p, token)
            // Branch-free select keeps the loop's timing independent of which entry matched.
            let mask = 0 &- Int(equal)
            found = (found & ~mask) | (max(found, scope.rawValue) & mask)
        }
        return Scope(rawValue: found)
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> UInt8 {
        var diff: UInt8 = a.count == b.count ? 0 : 1
        let n = max(a.count, b.count)
        for i in 0..<n {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            diff |= x ^ y
        }
        return diff == 0 ? 1 : 0
    }
}

/// The outcome of checking a request's credentials against what a route needs.
enum AuthDecision: Equatable {
    case allowed
    /// No usable token: 401.
    case unauthenticated(String)
    /// A valid token with too weak a scope: 403.
    case forbidden(String)
}

extension TokenSet {
    /// With no tokens configured the service is open (it then only binds loopback addresses).
    func authorize(authorization: String?, needs: Scope) -> AuthDecision {
        if isEmpty { return .allowed }
        guard let header = authorization else { return .unauthenticated("this request needs a bearer token with the \(needs.name) scope") }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            return .unauthenticated("use Authorization: Bearer TOKEN")
        }
        guard let scope = scope(of: String(parts[1]).trimmingASCIISpaces()) else { return .unauthenticated("the token is not valid") }
        if scope < needs { return .forbidden("this request needs the \(needs.name) scope; the token has \(scope.name)") }
        return .allowed
    }
}
