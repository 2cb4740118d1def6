import Foundation
import Ingestion

extension JSONValue {
    /// The value as JSON text again, so a part of a parsed body (a study's `auto_fit` object, a
    /// comparison's options beside `a` and `b`) can go through the decoder that reads a whole body.
    /// Whole numbers up to 2^53 are written without a fraction, so an integer field still reads as one.
    var jsonText: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let d):
            if d.isFinite, d.rounded() == d, abs(d) <= 9_007_199_254_740_991 { return String(Int64(d)) }
            return d.isFinite ? "\(d)" : "null"
        case .string(let s): return JSONBody.string(s)
        case .array(let items): return "[" + items.map(\.jsonText).joined(separator: ",") + "]"
        case .object(let members):
            return "{" + members.map { JSONBody.string($0.0) + ":" + $0.1.jsonText }.joined(separator: ",") + "}"
        }
    }
}
