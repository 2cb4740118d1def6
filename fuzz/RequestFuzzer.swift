// libFuzzer entry point for the request parser, the chunked decoder and the gzip inflater.
// Built by fuzz/run.sh together with those sources (same module, so internal API is visible).
//
// Besides "does not crash", it checks a differential property: parsing a buffer in one go and
// parsing it as it grows in pieces (the way a connection sees it) must give the same answer.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequest(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let first = bytes.first else { return 0 }
    let step = Int(first % 16) + 1
    let input = Array(bytes.dropFirst())
    let limits = ParserLimits(maxRequestLineBytes: 512, maxHeaderBytes: 1024, maxHeaderCount: 20)

    let whole = parseHead(input, limits: limits)
    let pieces = parseHeadInPieces(input, step: step, limits: limits)
    switch (whole, pieces) {
    case (.head(let a, let n), .head(let b, let m)):
        precondition(n == m && a.method == b.method && a.target == b.target && a.framing == b.framing,
                     "incremental parse disagrees with one-shot parse")
        decodeBody(Array(input[n...]), head: a, step: step, limits: limits)
    case (.error(let a), .error(let b)):
        precondition(a == b, "one-shot parse answers \(a) but incremental parse answers \(b)")
    case (.incomplete, .incomplete):
        break
    default:
        preconditionFailure("incremental parse disagrees with one-shot parse: \(whole) vs \(pieces)")
    }

    // The chunked decoder straight on the input too, in one go and in pieces.
    let oneShot = dechunk(input, step: input.count + 1)
    let stepped = dechunk(input, step: step)
    precondition(oneShot == stepped, "chunked decoder depends on how input is split")
    return 0
}

enum HeadResult: Equatable {
    case head(RequestHead, Int)
    case error(Int)
    case incomplete

    static func == (l: HeadResult, r: HeadResult) -> Bool {
        switch (l, r) {
        case (.head(_, let a), .head(_, let b)): return a == b
        case (.error(let a), .error(let b)): return a == b
        case (.incomplete, .incomplete): return true
        default: return false
        }
    }
}

func parseHead(_ input: [UInt8], limits: ParserLimits) -> HeadResult {
    var parser = RequestParser(limits: limits)
    do {
        let result = try input.withUnsafeBufferPointer { buffer throws(HTTPParseError) in try parser.parse(buffer) }
        guard let (head, consumed) = result else { return .incomplete }
        return .head(head, consumed)
    } catch {
        return .error(error.status)
    }
}

func parseHeadInPieces(_ input: [UInt8], step: Int, limits: ParserLimits) -> HeadResult {
    var parser = RequestParser(limits: limits)
    var end = 0
    while true {
        end = min(end + step, input.count)
        do {
            let result = try input[0..<end].withUnsafeBufferPointer { buffer throws(HTTPParseError) in try parser.parse(buffer) }
            if let (head, consumed) = result { return .head(head, consumed) }
        } catch {
            return .error(error.status)
        }
        if end == input.count { return .incomplete }
    }
}

enum DechunkResult: Equatable {
    case done([UInt8], consumed: Int)
    case error(Int)
    case incomplete([UInt8])
}

func dechunk(_ input: [UInt8], step: Int) -> DechunkResult {
    var decoder = ChunkedDecoder(maxBodyBytes: 4096, maxMetadataBytes: 1024)
    var body: [UInt8] = []
    var offset = 0
    do {
        while offset < input.count {
            let end = min(offset + step, input.count)
            let offered = end - offset
            let consumed = try input[offset..<end].withUnsafeBufferPointer { buffer throws(HTTPParseError) in
                try decoder.decode(buffer, into: &body)
            }
            precondition(consumed <= offered)
            offset += consumed
            if decoder.isComplete { return .done(body, consumed: offset) }
            precondition(consumed == offered, "decoder left input unconsumed without finishing")
        }
    } catch {
        return .error(error.status)
    }
    return decoder.isComplete ? .done(body, consumed: offset) : .incomplete(body)
}

func decodeBody(_ rest: [UInt8], head: RequestHead, step: Int, limits: ParserLimits) {
    var body: [UInt8]
    switch head.framing {
    case .none:
        return
    case .length(let n):
        body = Array(rest.prefix(n))
    case .chunked:
        guard case .done(let decoded, _) = dechunk(rest, step: step) else { return }
        body = decoded
    }
    if head.contentCoding == .gzip, let inflater = try? GzipInflater(maxOutputBytes: 1 << 16) {
        var out: [UInt8] = []
        var offset = 0
        while offset < body.count {
            let end = min(offset + step, body.count)
            do {
                try body[offset..<end].withUnsafeBufferPointer { buffer throws(HTTPParseError) in try inflater.feed(buffer, into: &out) }
            } catch {
                return
            }
            offset = end
        }
        precondition(out.count <= 1 << 16, "inflater exceeded its limit")
        _ = try? inflater.finish()
    }
}
