import ArgumentParser
import EmergenceService
import Foundation

/// `emergence backup`: copies a database, live or not, to a new file through SQLite's online
/// backup API. Safe while `emergence serve` runs on it: the backup only reads (it never takes DB.lock).
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy a database (even one a server is writing) to a new file, consistent and checked.",
        discussion: """
        The copy is the database as of the last commit before the backup began, in one file (no -wal), \
        checked with PRAGMA integrity_check before it is renamed into place. Restore: stop the server, \
        copy OUT to the database path (or serve OUT with --db), start the server.
        """)

    @Option(help: "The database to copy (env EMERGENCE_DB; default ./emergence.sqlite).")
    var db: String?

    @Option(help: "The file to write; it must not exist unless --force is given.")
    var to: String

    @Flag(help: "Replace OUT if it exists.")
    var force = false

    func run() throws {
        let source = db ?? ProcessInfo.processInfo.environment["EMERGENCE_DB"] ?? "./emergence.sqlite"
        let report: DatabaseBackup.Report
        do {
            report = try DatabaseBackup.run(database: source, to: to, overwrite: force)
        } catch {
            // A failed backup is not a usage error: one line, exit status 1.
            FileHandle.standardError.write(Data("emergence backup: \(error)\n".utf8))
            throw ExitCode.failure
        }
        print("backed up \(source) to \(to): \(report.pages) pages, \(report.bytes) bytes in \(String(format: "%.2f", report.seconds)) s; integrity_check ok")
    }
}
