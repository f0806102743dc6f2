// Base64 with the standard alphabet and padding (RFC 4648 §4): the WebSocket handshake's key and accept
// values (RFC 6455 §4.2.1, §4.2.2).

/// Base64 encoding and strict decoding (RFC 4648 §4).
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// `bytes` in base64 with '=' padding (RFC 4648 §4).
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var it = bytes.makeIterator()
        while let a = it.next() {
            let b = it.next(), c = it.next()
            let n = UInt32(a) << 16 | UInt32(b ?? 0) << 8 | UInt32(c ?? 0)
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(b == nil ? UInt8(ascii: "=") : alphabet[Int(n >> 6 & 63)])
            out.append(c == nil ? UInt8(ascii: "=") : alphabet[Int(n & 63)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes `text` encodes (RFC 4648 §4), or nil unless it is canonical base64: a multiple of four
    /// characters from the alphabet, padding only at the end, and zero bits after the last byte (§3.5).
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let u = Array(text.utf8)
        guard u.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(u.count / 4 * 3)
        var q = 0
        while q < u.count {
            let last = q + 4 == u.count
            let pad = last ? (u[q + 3] == UInt8(ascii: "=") ? (u[q + 2] == UInt8(ascii: "=") ? 2 : 1) : 0) : 0
            var n: UInt32 = 0
            for k in 0..<4 {
                let v: UInt32
                if k >= 4 - pad {
                    v = 0
                } else {
                    guard let d = value(u[q + k]) else { return nil }
                    v = d
                }
                n = n << 6 | v
            }
            // The padding's bits must be zero: one canonical encoding per byte string.
            if pad == 2 && n & 0xFFFF != 0 { return nil }
            if pad == 1 && n & 0xFF != 0 { return nil }
            out.append(UInt8(n >> 16))
            if pad < 2 { out.append(UInt8(n >> 8 & 0xFF)) }
            if pad < 1 { out.append(UInt8(n & 0xFF)) }
            q += 4
        }
        return out
    }

    /// The 6-bit value of an alphabet character; nil for anything else, '=' included.
    private static func value(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return UInt32(c - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return UInt32(c - UInt8(ascii: "a")) + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0")) + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }
}
