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
