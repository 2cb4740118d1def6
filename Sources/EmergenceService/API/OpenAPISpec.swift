/// Placeholder until generated.
enum OpenAPISpec {
    static let bytes: [UInt8] = Array("{}".utf8)
}
