/// Byte classes from RFC 9110 §5.6.2 and §5.5: the tables define them, the functions test them.
enum CharacterClasses {
    /// tchar: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    static let token: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for byte in UInt8(ascii: "0")...UInt8(ascii: "9") { table[Int(byte)] = true }
        for byte in UInt8(ascii: "a")...UInt8(ascii: "z") { table[Int(byte)] = true }
        for byte in UInt8(ascii: "A")...UInt8(ascii: "Z") { table[Int(byte)] = true }
        for byte in Array("!#$%&'*+-.^_`|~".utf8) { table[Int(byte)] = true }
        return table
    }()

    /// field-vchar / SP / HTAB / obs-text: what may appear inside a field value.
    static let fieldValue: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for byte in 0x21...0x7E { table[byte] = true }
        for byte in 0x80...0xFF { table[byte] = true }
        table[0x20] = true
        table[0x09] = true
        return table
    }()

    /// Visible ASCII: what a request-target may contain (no spaces, controls, DEL or raw non-ASCII).
    static let target: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for byte in 0x21...0x7E { table[byte] = true }
        return table
    }()

    // The tests above, computed: a lookup in a table held by a `static let` passes through its
    // lazy initialisation check on every byte. A test checks that both agree on all 256 bytes.

    @inline(__always) static func isToken(_ byte: UInt8) -> Bool {
        // Bit n of the first mask is byte n (0–63), of the second byte 64 + n (64–127).
        if byte < 64 { return (0x03FF_6CFA_0000_0000 as UInt64) >> UInt64(byte) & 1 == 1 }
        if byte < 128 { return (0x57FF_FFFF_C7FF_FFFE as UInt64) >> UInt64(byte - 64) & 1 == 1 }
        return false
    }

    @inline(__always) static func isFieldValue(_ byte: UInt8) -> Bool { byte == 0x09 || (byte >= 0x20 && byte != 0x7F) }
    @inline(__always) static func isTarget(_ byte: UInt8) -> Bool { byte >= 0x21 && byte <= 0x7E }
}
