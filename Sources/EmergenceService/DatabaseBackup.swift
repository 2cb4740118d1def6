import Storage

/// `emergence backup`: a consistent copy of a database a server may be writing (see `Backup` in
/// Storage for how). Here so the executable needs no direct dependency on Storage.
public enum DatabaseBackup {
    public struct Report: Sendable {
        public var pages: Int
        public var bytes: Int64
        public var seconds: Double
    }

    public static func run(database: String, to destination: String, overwrite: Bool) throws -> Report {
        let r = try Backup.copy(from: database, to: destination, overwrite: overwrite)
        return Report(pages: r.pages, bytes: r.bytes, seconds: r.seconds)
    }
}
