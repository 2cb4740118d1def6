/// Where the pool reports each change of a job's status (the service counts them for /metrics and
/// writes a log line). Called after the change is committed to the database.
package protocol JobEvents: Sendable {
    func transition(_ job: Job, from: Job.Status?, to: Job.Status, seconds: Double?, error: String?)
    /// What a start-up recovery did to jobs the previous process left running.
    func recovered(requeued: Int, failed: Int)
    /// Runs `write`, the database write that gives `job` its result (`to: .succeeded`), so that a
    /// cache of what that changes (the service's predictions) can stand aside while it commits.
    func committing(_ job: Job, to: Job.Status, _ write: () throws -> Void) throws
}

extension JobEvents {
    /// By default the write just runs.
    package func committing(_ job: Job, to: Job.Status, _ write: () throws -> Void) throws {
        try write()
    }

    package func transition(_ job: Job, from: Job.Status?, to: Job.Status) {
        transition(job, from: from, to: to, seconds: nil, error: nil)
    }
}
