/// Byte classes from RFC 9110 §5.6.2 and §5.5, as lookup tables so the parser stays branch-light.
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

    @inline(__always) static func isToken(_ byte: UInt8) -> Bool { token[Int(byte)] }
    @inline(__always) static func isFieldValue(_ byte: UInt8) -> Bool { fieldValue[Int(byte)] }
    @inline(__always) static func isTarget(_ byte: UInt8) -> Bool { target[Int(byte)] }
}
