/// The served API description: the repository's top-level `openapi.json`, compiled into the binary by
/// SwiftPM (`.embedInCode`, through the symlink `API/openapi.json`), so a copied binary still serves
/// it and there is no second copy to keep in step. OpenAPITests checks routes and spec agree.
enum OpenAPISpec {
    static let bytes: [UInt8] = PackageResources.openapi_json
    static var text: String { String(decoding: bytes, as: UTF8.self) }
}
