/// Writing JSON string literals from raw bytes.
public enum JSONString {
    /// Appends `bytes` as a JSON string literal (with quotes) to `out`.
    ///
    /// Escapes `"` and `\`, writes `\n \r \t \b \f` for those control bytes and
    /// `\u00XX` for the other bytes below 0x20; everything else is copied in
    /// bulk. Every ill-formed UTF-8 sequence is replaced with U+FFFD, one per
    /// maximal subpart (the WHATWG and Unicode rule, the same as
    /// `String(decoding:as:)`), so the output is always valid UTF-8 JSON.
    /// Never traps.
    public static func append(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        let n = bytes.count
        let need = out.count &+ n &+ 2
        if need > out.capacity {
            // Grow geometrically: an exact reserveCapacity per call would
            // reallocate on every append.
            out.reserveCapacity(max(need, out.capacity &* 2))
        }
        out.append(0x22)
        var runStart = 0
        var i = 0
        while true {
            i = ByteScan.escapeStop(bytes, from: i)
            if i >= n { break }
            let c = bytes[i]
            if c >= 0x80 {
                let length = ByteScan.utf8Sequence(bytes, at: i)
                if length > 0 {
                    i &+= length  // well-formed: stays in the run
                    continue
                }
                out.append(contentsOf: ByteScan.slice(bytes, runStart, i))
                out.append(0xEF)
                out.append(0xBF)
                out.append(0xBD)
                i &+= -length
                runStart = i
                continue
            }
            out.append(contentsOf: ByteScan.slice(bytes, runStart, i))
            appendEscape(c, to: &out)
            i &+= 1
            runStart = i
        }
        out.append(contentsOf: ByteScan.slice(bytes, runStart, n))
        out.append(0x22)
    }

    /// Appends `s` as a JSON string literal (with quotes) to `out`.
    public static func append(_ s: String, to out: inout [UInt8]) {
        // Native strings are contiguous: no copy. Others are made so.
        let done: Void? = s.utf8.withContiguousStorageIfAvailable { append(UnsafeRawBufferPointer($0), to: &out) }
        if done == nil {
            var s = s
            s.withUTF8 { append(UnsafeRawBufferPointer($0), to: &out) }
        }
    }

    /// The JSON string literal for `s`, with quotes.
    public static func encode(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        append(s, to: &out)
        return out
    }

    static let hexDigits: StaticString = "0123456789abcdef"

    static func appendEscape(_ c: UInt8, to out: inout [UInt8]) {
        out.append(0x5C)  // backslash
        switch c {
        case 0x22: out.append(0x22)
        case 0x5C: out.append(0x5C)
        case 0x0A: out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(UInt8(ascii: "r"))
        case 0x09: out.append(UInt8(ascii: "t"))
        case 0x08: out.append(UInt8(ascii: "b"))
        case 0x0C: out.append(UInt8(ascii: "f"))
        default:
            let hex = hexDigits.utf8Start
            out.append(UInt8(ascii: "u"))
            out.append(UInt8(ascii: "0"))
            out.append(UInt8(ascii: "0"))
            out.append(hex[Int(c >> 4)])
            out.append(hex[Int(c & 0x0F)])
        }
    }
}
