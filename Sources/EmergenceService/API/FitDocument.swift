import Jobs
/// The JSON of `GET /v1/fits/{id}`, written directly so the stored options and result (already JSON)
/// go out byte for byte instead of through a decode and re-encode.
enum FitDocument {
    static func encode(_ job: Job, studyName: String?, progress: Double? = nil) -> [UInt8] {
        var p = progress ?? job.progress
        if job.status == .succeeded { p = 1 }
        var s = "{"
        s += "\"attempts\":\(job.attempts)"
        s += ",\"created_at\":\(JSONBody.string(job.createdAt))"
        s += ",\"data_version\":\(job.dataVersion)"
        s += ",\"error\":\(JSONBody.optionalString(job.error))"
        s += ",\"finished_at\":\(JSONBody.optionalString(job.finishedAt))"
        s += ",\"id\":\(job.id)"
        s += ",\"options\":\(job.optionsJSON)"
        s += ",\"progress\":\(p.isFinite ? min(1, max(0, p)) : 0)"
        var bytes = Array(s.utf8)
        bytes += Array(",\"result\":".utf8)
        if let r = job.resultJSON { bytes += r } else { bytes += Array("null".utf8) }
        var t = ",\"started_at\":\(JSONBody.optionalString(job.startedAt))"
        t += ",\"status\":\(JSONBody.string(job.status.rawValue))"
        t += ",\"study\":\(job.studyID)"
        t += ",\"study_name\":\(JSONBody.optionalString(studyName))"
        t += "}"
        bytes += Array(t.utf8)
        return bytes
    }
}
