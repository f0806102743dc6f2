// Byte-level text helpers shared by the parsers: hex digits, percent-decoding (RFC 3986 §2.1) and UTF-8
// well-formedness (RFC 3629 §4, Unicode Table 3-7). One copy of each rule, inlinable into the hot paths.

/// Hexadecimal digits.
public enum Hex {
    /// The value of one hex digit (`0-9`, `a-f`, `A-F`), or nil.
    @inlinable @inline(__always)
    public static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c &- 0x30
        case 0x41...0x46: return c &- 0x41 &+ 10
        case 0x61...0x66: return c &- 0x61 &+ 10
        default: return nil
        }
    }
}

/// Percent-encoding (RFC 3986 §2.1).
public enum Percent {
    /// `text` with `%XX` escapes decoded, and `+` as a space when `plusAsSpace` (the HTML form encoding of
    /// queries); nil for a malformed escape. The bytes are returned as they are: whether they must be UTF-8
    /// is the caller's rule.
    public static func decode(_ text: some StringProtocol, plusAsSpace: Bool = false) -> [UInt8]? {
        let u = text.utf8
        var out: [UInt8] = []
        out.reserveCapacity(u.count)
        var i = u.startIndex
        while i < u.endIndex {
            let c = u[i]
            u.formIndex(after: &i)
            if c == UInt8(ascii: "%") {
                guard i < u.endIndex, let hi = Hex.value(u[i]) else { return nil }
                u.formIndex(after: &i)
                guard i < u.endIndex, let lo = Hex.value(u[i]) else { return nil }
                u.formIndex(after: &i)
                out.append(hi << 4 | lo)
            } else if c == UInt8(ascii: "+") && plusAsSpace {
                out.append(0x20)
            } else {
                out.append(c)
            }
        }
        return out
    }
}

/// The UTF-8 encoding form's rules (RFC 3629 §4, Unicode Table 3-7).
public enum UTF8Rules {
    /// For a lead byte ≥ 0x80: how many continuation bytes follow, and the range the first of them must
    /// fall in (narrower than 80–BF after E0, ED, F0, F4); nil for a byte that never starts a character
    /// (80–BF, C0–C1 overlong, F5–FF).
    @inlinable @inline(__always)
    public static func lead(_ b: UInt8) -> (continuations: Int, lower: UInt8, upper: UInt8)? {
        switch b {
        case 0xC2...0xDF: return (1, 0x80, 0xBF)
        case 0xE0: return (2, 0xA0, 0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: return (2, 0x80, 0xBF)
        case 0xED: return (2, 0x80, 0x9F)
        case 0xF0: return (3, 0x90, 0xBF)
        case 0xF1...0xF3: return (3, 0x80, 0xBF)
        case 0xF4: return (3, 0x80, 0x8F)
        default: return nil
        }
    }

    /// Whether `bytes` are well-formed UTF-8, ending on a character boundary.
    public static func isValid(_ bytes: some Sequence<UInt8>) -> Bool {
        var v = UTF8Validator()
        return v.consume(bytes) && v.isAtBoundary
    }
}

/// An incremental UTF-8 validator, checked a byte at a time so that a message arriving in pieces can be
/// rejected as soon as it goes wrong: overlong forms, surrogates (U+D800–DFFF), values above U+10FFFF,
/// stray continuation bytes and truncated sequences are all invalid.
public struct UTF8Validator: Sendable {
    /// Continuation bytes still expected for the current character.
    private var needed = 0
    /// The range the next continuation byte must fall in.
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    public init() {}

    /// Whether the bytes so far end on a character boundary (no sequence left half-finished).
    public var isAtBoundary: Bool { needed == 0 }

    /// Checks one more byte; false once the bytes cannot be UTF-8 (the validator is then spent).
    public mutating func consume(_ b: UInt8) -> Bool {
        if needed == 0 {
            if b < 0x80 { return true }
            guard let l = UTF8Rules.lead(b) else { return false }
            (needed, lower, upper) = l
            return true
        }
        guard b >= lower && b <= upper else { return false }
        lower = 0x80
        upper = 0xBF
        needed -= 1
        return true
    }

    /// Checks more bytes; false once they cannot be UTF-8.
    public mutating func consume(_ bytes: some Sequence<UInt8>) -> Bool {
        for b in bytes where !consume(b) { return false }
        return true
    }
}
