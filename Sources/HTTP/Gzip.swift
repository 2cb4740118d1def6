import CZlib

/// Streaming gzip decoder for request bodies: compressed bytes go in as they arrive and the output
/// is capped, so a small "gzip bomb" is refused (413) long before it fills memory.
final class GzipInflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private let maxOutputBytes: Int
    private var finished = false
    private(set) var outputBytes = 0

    init(maxOutputBytes: Int) throws(HTTPParseError) {
        self.maxOutputBytes = maxOutputBytes
        // z_stream must not move while zlib holds it: inflate checks state->strm == strm.
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard czlib_inflate_init_gzip(stream) == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw HTTPParseError(status: 500, detail: "zlib could not be initialised")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    var isFinished: Bool { finished }

    /// Decompresses `input`, appending to `output`.
    func feed(_ input: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) throws(HTTPParseError) {
        guard input.count > 0 else { return }
        guard !finished else { throw .badRequest("data after the end of the gzip stream") }
        guard let base = input.baseAddress else { return }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base)
        stream.pointee.avail_in = uInt(input.count)
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let (status, produced) = chunk.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
                stream.pointee.next_out = out.baseAddress
                stream.pointee.avail_out = uInt(out.count)
                let status = inflate(stream, Z_NO_FLUSH)
                return (status, out.count - Int(stream.pointee.avail_out))
            }
            outputBytes += produced
            if outputBytes > maxOutputBytes {
                throw HTTPParseError(status: 413, detail: "decompressed body exceeds the limit of \(maxOutputBytes) bytes")
            }
            output.append(contentsOf: chunk[0..<produced])
            switch status {
            case Z_STREAM_END:
                finished = true
                if stream.pointee.avail_in > 0 { throw .badRequest("data after the end of the gzip stream") }
                return
            case Z_OK:
                if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { return }
            case Z_BUF_ERROR:
                // No progress possible: all input consumed and more is needed.
                return
            default:
                throw .badRequest("request body is not valid gzip")
            }
        }
    }

    /// Called at the end of the body: a truncated stream is an error.
    func finish() throws(HTTPParseError) {
        guard finished else { throw .badRequest("gzip request body is truncated") }
    }
}

/// One-shot gzip compression for response bodies.
func gzipCompress(_ input: [UInt8], level: Int32) -> [UInt8]? {
    let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    stream.initialize(to: z_stream())
    defer {
        stream.deinitialize(count: 1)
        stream.deallocate()
    }
    guard czlib_deflate_init_gzip(stream, level) == Z_OK else { return nil }
    defer { deflateEnd(stream) }
    // deflateBound does not count the gzip wrapper (18 bytes) for windowBits > 15.
    var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, uLong(input.count))) + 64)
    let produced: Int? = input.withUnsafeBufferPointer { inBuf in
        output.withUnsafeMutableBufferPointer { outBuf in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.pointee.avail_in = uInt(inBuf.count)
            stream.pointee.next_out = outBuf.baseAddress
            stream.pointee.avail_out = uInt(outBuf.count)
            guard deflate(stream, Z_FINISH) == Z_STREAM_END else { return nil }
            return outBuf.count - Int(stream.pointee.avail_out)
        }
    }
    guard let produced else { return nil }
    output.removeSubrange(produced...)
    return output
}
