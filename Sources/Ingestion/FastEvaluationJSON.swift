import EmergenceCore

/// The common case of an evaluation object, read straight from bytes: one flat object whose keys are
/// all docs/method.md §1 fields, plain strings and numbers of the right types, and valid values.
///
/// Anything else (unknown keys, escapes, wrong types, a bad value, malformed JSON) makes it give up
/// and return nil, and the caller re-reads that input with the general parser, which explains every
/// problem. Bulk uploads are nearly always the common case, so they never build a `JSONValue` tree.
struct FastEvaluationJSON {
    let bytes: UnsafeBufferPointer<UInt8>
    var pos: Int
    let end: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>, start: Int, end: Int) {
        self.bytes = bytes
        pos = start
        self.end = end
    }

    mutating func skipSpace() {
        while pos < end {
            let b = bytes[pos]
            if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { pos += 1 } else { return }
        }
    }

    var atEnd: Bool { pos >= end }

    /// Consumes `b` (after optional space) when it is next.
    mutating func take(_ b: UInt8) -> Bool {
        skipSpace()
        guard pos < end, bytes[pos] == b else { return false }
        pos += 1
        return true
    }

    /// A string without escapes or control characters, as a byte range; nil otherwise.
    private mutating func plainString() -> Range<Int>? {
        guard pos < end, bytes[pos] == 0x22 else { return nil }
        pos += 1
        let start = pos
        while pos < end {
            let b = bytes[pos]
            if b == 0x22 { pos += 1; return start..<(pos - 1) }
            if b == 0x5C || b < 0x20 { return nil }
            pos += 1
        }
        return nil
    }

    private func equals(_ r: Range<Int>, _ word: StaticString) -> Bool {
        guard r.count == word.utf8CodeUnitCount else { return false }
        let w = word.utf8Start
        var k = 0
        for i in r { if bytes[i] != w[k] { return false }; k += 1 }
        return true
    }

    private func field(_ r: Range<Int>) -> EvaluationField? {
        guard let first = r.first else { return nil }
        switch bytes[first] {
        case 0x63: return equals(r, "checkpoint") ? .checkpoint : nil
        case 0x6D: return equals(r, "model") ? .model : nil
        case 0x70: return equals(r, "parameters") ? .parameters : equals(r, "pretrain_loss") ? .pretrainLoss : nil
        case 0x74: return equals(r, "tokens") ? .tokens : nil
        case 0x66: return equals(r, "flops") ? .flops : equals(r, "finetune_examples") ? .finetuneExamples : nil
        case 0x73: return equals(r, "setting") ? .setting : equals(r, "shots") ? .shots : equals(r, "subset") ? .subset : nil
        case 0x61: return equals(r, "accuracy") ? .accuracy : nil
        case 0x6E: return equals(r, "n_questions") ? .nQuestions : nil
        default: return nil
        }
    }

    private func text(_ r: Range<Int>) -> String? {
        let raw = UnsafeBufferPointer(rebasing: bytes[r])
        // ASCII is valid as it is (see CSVScanner.validText: the generic validating initialiser costs more).
        for b in raw where b >= 0x80 { return String(validating: raw, as: UTF8.self) }
        return String(decoding: raw, as: UTF8.self)
    }

    /// One evaluation object at `pos`, leaving `pos` after its `}`.
    mutating func evaluation() -> Evaluation? {
        guard take(0x7B) else { return nil }
        var d = EvaluationDraft()
        skipSpace()
        if pos < end, bytes[pos] == 0x7D { pos += 1; return d.finish() }
        while true {
            skipSpace()
            guard let key = plainString(), let f = field(key), take(0x3A) else { return nil }
            skipSpace()
            guard pos < end else { return nil }
            if bytes[pos] == 0x6E {  // null: absent
                guard pos + 4 <= end, bytes[pos + 1] == 0x75, bytes[pos + 2] == 0x6C, bytes[pos + 3] == 0x6C else { return nil }
                pos += 4
            } else {
                switch f.kind {
                case .text:
                    guard let r = plainString(), let s = text(r) else { return nil }
                    d.set(f, text: s)
                case .setting:
                    guard let r = plainString() else { return nil }
                    if equals(r, "few_shot") { d.setting = .fewShot } else if equals(r, "finetuned") { d.setting = .finetuned } else { return nil }
                case .integer:
                    guard let v = JSONParser.scanNumber(bytes, &pos, end), v.isFinite, let i = NumberText.integer(v) else { return nil }
                    d.set(f, integer: i)
                case .number:
                    guard let v = JSONParser.scanNumber(bytes, &pos, end), v.isFinite else { return nil }
                    d.set(f, number: v)
                }
            }
            skipSpace()
            guard pos < end else { return nil }
            if bytes[pos] == 0x2C { pos += 1; continue }
            if bytes[pos] == 0x7D { pos += 1; return d.finish() }
            return nil
        }
    }

    /// A whole body that is an array of evaluations or `{"evaluations": [...]}` and nothing else.
    static func document(_ bytes: UnsafeBufferPointer<UInt8>) -> [Evaluation]? {
        var p = FastEvaluationJSON(bytes, start: 0, end: bytes.count)
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { p.pos = 3 }
        var wrapped = false
        if p.take(0x7B) {
            p.skipSpace()
            guard let key = p.plainString(), p.equals(key, "evaluations"), p.take(0x3A) else { return nil }
            wrapped = true
        }
        guard p.take(0x5B) else { return nil }
        var out: [Evaluation] = []
        out.reserveCapacity(bytes.count / 160)
        if !p.take(0x5D) {
            while true {
                guard let e = p.evaluation() else { return nil }
                out.append(e)
                if p.take(0x2C) { continue }
                if p.take(0x5D) { break }
                return nil
            }
        }
        if wrapped && !p.take(0x7D) { return nil }
        p.skipSpace()
        return p.atEnd ? out : nil
    }
}
