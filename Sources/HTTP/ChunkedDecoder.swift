/// Incremental decoder for the chunked transfer coding (RFC 9112 §7.1). It accepts input split at
/// any byte, appends chunk data to the caller's buffer, skips extensions and trailer fields, and
/// stops exactly after the final CRLF so pipelined bytes stay with the caller.
struct ChunkedDecoder {
    private enum State {
        case size
        case sizeWhitespace      // BWS after the size: only ";" may follow
        case extensions
        case sizeLF
        case data(remaining: Int)
        case dataCR
        case dataLF
        case trailerLineStart
        case trailerLine
        case trailerLF
        case finalLF
        case done
    }

    private var state = State.size
    private var size = 0
    private var sizeDigits = 0
    private var decodedBytes = 0
    private var metadataBytes = 0
    let maxBodyBytes: Int
    /// Bound on chunk extensions and trailer fields together, so they cannot be used to stream
    /// unbounded bytes that never count as body.
    let maxMetadataBytes: Int

    init(maxBodyBytes: Int, maxMetadataBytes: Int = 16 * 1024) {
        self.maxBodyBytes = maxBodyBytes
        self.maxMetadataBytes = maxMetadataBytes
    }

    var isComplete: Bool {
        if case .done = state { return true }
        return false
    }

    /// Consumes bytes from `input`, appending decoded data to `body`; returns how many bytes were consumed.
    mutating func decode(_ input: UnsafeBufferPointer<UInt8>, into body: inout [UInt8]) throws(HTTPParseError) -> Int {
        var i = 0
        let n = input.count
        while i < n {
            if case .done = state { return i }
            if case .data(let remaining) = state {
                let take = min(remaining, n - i)
                body.append(contentsOf: UnsafeBufferPointer(rebasing: input[i..<(i + take)]))
                i += take
                state = remaining == take ? .dataCR : .data(remaining: remaining - take)
                continue
            }
            let byte = input[i]
            i += 1
            switch state {
            case .sizeWhitespace, .extensions, .trailerLineStart, .trailerLine, .trailerLF, .finalLF:
                // Extensions and trailers carry no body bytes, so they get a budget of their own.
                // Size lines and CRLFs need none: every chunk before the last adds at least one
                // body byte, so the body limit already bounds them.
                metadataBytes += 1
                if metadataBytes > maxMetadataBytes {
                    throw HTTPParseError(status: 431, detail: "chunk extensions or trailer section exceed \(maxMetadataBytes) bytes")
                }
            default:
                break
            }
            switch state {
            case .size:
                if let digit = hexValue(byte) {
                    sizeDigits += 1
                    if sizeDigits > 32 { throw .badRequest("chunk size has more than 32 digits") }
                    if size > (Int.max >> 4) { throw HTTPParseError(status: 413, detail: "chunk size too large") }
                    size = size << 4 | Int(digit)
                    if decodedBytes + size > maxBodyBytes {
                        throw HTTPParseError(status: 413, detail: "chunked body exceeds the limit of \(maxBodyBytes) bytes")
                    }
                } else if sizeDigits == 0 {
                    throw .badRequest("chunk-size line does not start with a hexadecimal size")
                } else if byte == 0x0D {
                    state = .sizeLF
                } else if byte == 0x3B {
                    state = .extensions
                } else if byte == 0x20 || byte == 0x09 {
                    state = .sizeWhitespace
                } else {
                    throw .badRequest("invalid character in chunk-size line")
                }
            case .sizeWhitespace:
                if byte == 0x3B { state = .extensions } else if byte != 0x20 && byte != 0x09 {
                    throw .badRequest("invalid character after chunk size")
                }
            case .extensions:
                // chunk-ext names and values are tokens or quoted strings; controls other than HTAB are never valid.
                if byte == 0x0D { state = .sizeLF } else if !CharacterClasses.isFieldValue(byte) {
                    throw .badRequest("invalid character in chunk extension")
                }
            case .sizeLF:
                guard byte == 0x0A else { throw .badRequest("chunk-size line must end in CRLF") }
                if size == 0 {
                    state = .trailerLineStart
                } else {
                    decodedBytes += size
                    state = .data(remaining: size)
                }
                size = 0
                sizeDigits = 0
            case .dataCR:
                guard byte == 0x0D else { throw .badRequest("chunk data must be followed by CRLF") }
                state = .dataLF
            case .dataLF:
                guard byte == 0x0A else { throw .badRequest("chunk data must be followed by CRLF") }
                state = .size
            case .trailerLineStart:
                if byte == 0x0D { state = .finalLF } else if CharacterClasses.isToken(byte) { state = .trailerLine } else {
                    throw .badRequest("invalid trailer field")
                }
            case .trailerLine:
                if byte == 0x0D { state = .trailerLF } else if !CharacterClasses.isFieldValue(byte) && byte != 0x3A {
                    throw .badRequest("invalid character in trailer field")
                }
            case .trailerLF:
                guard byte == 0x0A else { throw .badRequest("trailer field must end in CRLF") }
                state = .trailerLineStart
            case .finalLF:
                guard byte == 0x0A else { throw .badRequest("chunked body must end in CRLF") }
                state = .done
                return i
            case .data, .done:
                // Handled before a metadata byte is read; answered as a bad request rather than a
                // trap should that ever change.
                throw .badRequest("chunked body framing error")
            }
        }
        return i
    }
}
