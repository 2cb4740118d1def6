import EmergenceService
@testable import Storage

extension Database {
    /// The service's database (every module's migrations), which most of these tests open: the
    /// wrapper itself knows no schema.
    convenience init(path: String, readers: Int = 4, exclusive: Bool = true) throws {
        try self.init(path: path, readers: readers, migrations: ServiceSchema.migrations, exclusive: exclusive)
    }
}
