import Jobs
/// The JSON of `GET /v1/jobs/{id}`: a fit's document (FitDocument, same fields, same bytes for the
/// stored options and result) plus what says which job it is: `kind`, the second study of a
/// comparison, and whether the study's `auto_fit` queued it. `/v1/fits/{id}` keeps FitDocument.
enum JobDocument {
    static func encode(_ job: Job, studyName: String?, studyBName: String?, progress: Double? = nil) -> [UInt8] {
        var bytes = FitDocument.encode(job, studyName: studyName, progress: progress)
        guard bytes.last == 0x7D else { return bytes }
        bytes.removeLast()
        var s = ",\"auto\":\(job.auto)"
        s += ",\"data_version_b\":\(job.dataVersionB.map(String.init) ?? "null")"
        s += ",\"kind\":\(JSONBody.string(job.kind.rawValue))"
        s += ",\"study_b\":\(job.studyBID.map(String.init) ?? "null")"
        s += ",\"study_b_name\":\(JSONBody.optionalString(studyBName))"
        s += "}"
        bytes += Array(s.utf8)
        return bytes
    }
}
