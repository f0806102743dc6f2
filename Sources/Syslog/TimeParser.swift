import Glibc  // memcmp
import Time

/// Parses record times, remembering the last date and time to the second:
/// Docker's lines come many to a second, and for those only the fraction
/// is read.
struct TimeParser: Sendable {
    /// The first 19 bytes (`2026-11-24T20:42:17`) of the last time parsed
    /// whose zone was `Z`, and its seconds.
    var key: (UInt64, UInt64, UInt64) = (0, 0, 0)
    var keySeconds: Int64?

    /// The time `b` holds, RFC 3339; nil when it is not that.
    @inline(__always)
    mutating func parse(_ b: UnsafeRawBufferPointer) -> Timestamp? {
        if let nanos = TimeParser.zuluFraction(b), let seconds = keySeconds {
            let same = withUnsafeBytes(of: &key) { memcmp($0.baseAddress!, b.baseAddress!, 19) == 0 }
            if same { return Timestamp(seconds: seconds, nanoseconds: nanos) }
        }
        return parseSlow(b)
    }

    @inline(never)
    mutating func parseSlow(_ b: UnsafeRawBufferPointer) -> Timestamp? {
        guard let t = Timestamp(rfc3339Bytes: b) else { return nil }
        if TimeParser.zuluFraction(b) != nil {
            // A valid time in UTC: its first 19 bytes give its seconds.
            key = (0, 0, 0)
            withUnsafeMutableBytes(of: &key) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: b[0..<19])) }
            keySeconds = t.seconds
        }
        return t
    }

    /// The nanoseconds of a time that ends `SS.fffZ` or `SSZ` after 19
    /// bytes (the digits themselves unchecked before them); nil for any other ending.
    @inline(__always)
    static func zuluFraction(_ b: UnsafeRawBufferPointer) -> Int32? {
        let n = b.count
        guard n >= 20, b[n - 1] == UInt8(ascii: "Z") else { return nil }
        if n == 20 { return 0 }
        guard b[19] == UInt8(ascii: "."), n >= 22 else { return nil }
        var nanos: Int32 = 0
        var digits = 0
        for i in 20..<(n - 1) {
            let d = b[i] &- 0x30
            guard d < 10 else { return nil }
            if digits < 9 {
                nanos = nanos &* 10 &+ Int32(d)
                digits += 1
            }
        }
        while digits < 9 {
            nanos &*= 10
            digits += 1
        }
        return nanos
    }
}

/// Header fields: which characters they may hold, and how long they may be.
enum Field {
    static let hostnameMax = 255
    static let appNameMax = 48
    static let procIDMax = 128
    static let tag3164Max = 32
    static let deisTagMax = 255

    enum Syntax {
        /// RFC 5424's PRINTUSASCII, `!` to `~`.
        case printable
        /// PRINTUSASCII but `:` `[` `]` `/`: rsyslog ends an RFC 3164 TAG at
        /// `:` and its program name at `[`, `:` or `/`.
        case tag
        /// Letters, digits, `.`, `_`, `-`: what rsyslog accepts as an RFC 3164 hostname.
        case hostname3164
    }

    static func isAlphanumeric(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }

    @inline(__always)
    static func allowed(_ v: UInt32, _ syntax: Syntax) -> Bool {
        switch syntax {
        case .printable:
            return v >= 33 && v <= 126
        case .tag:
            return v >= 33 && v <= 126 && v != 0x3A && v != 0x5B && v != 0x5D && v != 0x2F
        case .hostname3164:
            return v < 128 && (isAlphanumeric(UInt8(v)) || v == 0x2E || v == 0x5F || v == 0x2D)
        }
    }

    /// Appends `parts` as one text, each character (Unicode scalar) that
    /// `syntax` does not allow replaced with `_`, at most `max` characters;
    /// an empty text is written `-` (NILVALUE) unless `nilValue` is false.
    static func append(_ parts: [String], syntax: Syntax, max: Int, to out: inout [UInt8], nilValue: Bool = true) {
        var count = 0
        outer: for part in parts {
            for scalar in part.unicodeScalars {
                if count == max { break outer }
                out.append(allowed(scalar.value, syntax) ? UInt8(truncatingIfNeeded: scalar.value) : 0x5F)
                count += 1
            }
        }
        if count == 0 && nilValue { out.append(0x2D) }
    }
}
