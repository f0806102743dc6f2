// UTF-8 well-formedness (RFC 3629 §4, Unicode Table 3-7), checked a byte at a time so that a message
// arriving in pieces can be rejected as soon as it goes wrong: overlong forms, surrogates (U+D800–DFFF),
// values above U+10FFFF, stray continuation bytes and truncated sequences are all invalid.

/// An incremental UTF-8 validator (RFC 3629 §4).
struct UTF8Validator {
    /// Continuation bytes still expected for the current character.
    private var needed = 0
    /// The range the next continuation byte must fall in (narrower than 80–BF right after E0, ED, F0, F4).
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    init() {}

    /// Whether the bytes so far end on a character boundary (no sequence left half-finished).
    var isAtBoundary: Bool { needed == 0 }

    /// Checks one more byte; false once the bytes cannot be UTF-8 (the validator is then spent).
    mutating func consume(_ b: UInt8) -> Bool {
        if needed == 0 {
            switch b {
            case 0x00...0x7F: return true
            case 0xC2...0xDF: needed = 1
            case 0xE0: needed = 2; lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: needed = 2
            case 0xED: needed = 2; upper = 0x9F
            case 0xF0: needed = 3; lower = 0x90
            case 0xF1...0xF3: needed = 3
            case 0xF4: needed = 3; upper = 0x8F
            default: return false  // 80–BF without a lead byte, C0–C1 (overlong), F5–FF
            }
            return true
        }
        guard b >= lower && b <= upper else { return false }
        lower = 0x80
        upper = 0xBF
        needed -= 1
        return true
    }

    /// Checks more bytes; false once they cannot be UTF-8.
    mutating func consume(_ bytes: some Sequence<UInt8>) -> Bool {
        for b in bytes where !consume(b) { return false }
        return true
    }
}

/// Whether `bytes` are well-formed UTF-8 (RFC 3629 §4), ending on a character boundary.
func isValidUTF8(_ bytes: some Sequence<UInt8>) -> Bool {
    var v = UTF8Validator()
    return v.consume(bytes) && v.isAtBoundary
}
