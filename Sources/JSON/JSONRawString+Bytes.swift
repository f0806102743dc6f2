extension JSONRawString {
    /// Appends the decoded value to `out` as bytes, the way Go's `encoding/json` decodes a string: escapes
    /// decoded, a `\u` surrogate not followed by its pair becomes U+FFFD (the escape after it is read on its
    /// own), and each byte of ill-formed UTF-8 becomes one U+FFFD. Valid text is copied a run at a time.
    @inlinable
    public func appendDecoded(to out: inout [UInt8]) {
        let p = raw
        let end = p.count
        var i = 0
        while i < end {
            let stop = hasEscapes ? ByteScan.escapeStop(p, from: i) : ByteScan.highStop(p, from: i)
            if stop > i { out.append(contentsOf: ByteScan.slice(p, i, stop)) }
            i = stop
            guard i < end else { break }
            if p[i] >= 0x80 {
                let k = ByteScan.utf8Sequence(p, at: i)
                if k > 0 {
                    out.append(contentsOf: ByteScan.slice(p, i, i &+ k))
                    i &+= k
                } else {
                    out.append(contentsOf: JSONRawString.replacement)
                    i &+= 1
                }
                continue
            }
            // A backslash: the scanner checked the escape.
            i = JSONRawString.appendEscape(p, at: i, to: &out)
        }
    }

    /// U+FFFD in UTF-8.
    @usableFromInline static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]

    /// Decodes the escape at `p[i]` (a backslash) onto `out`; returns the index after it.
    @usableFromInline
    static func appendEscape(_ p: UnsafeRawBufferPointer, at i: Int, to out: inout [UInt8]) -> Int {
        guard i &+ 1 < p.count else { return p.count }
        let e = p[i &+ 1]
        switch e {
        case 0x6E: out.append(0x0A)
        case 0x74: out.append(0x09)
        case 0x72: out.append(0x0D)
        case 0x62: out.append(0x08)
        case 0x66: out.append(0x0C)
        case 0x75:
            guard let u = JSONScanner.hex4(p, i &+ 2) else {
                out.append(contentsOf: replacement)
                return p.count
            }
            var next = i &+ 6
            var scalar = u
            if u >= 0xD800 && u <= 0xDBFF {
                scalar = 0xFFFD
                if next &+ 6 <= p.count, p[next] == 0x5C, p[next &+ 1] == 0x75,
                   let low = JSONScanner.hex4(p, next &+ 2), low >= 0xDC00 && low <= 0xDFFF {
                    scalar = 0x10000 &+ ((u &- 0xD800) << 10) &+ (low &- 0xDC00)
                    next &+= 6
                }
            } else if u >= 0xDC00 && u <= 0xDFFF {
                scalar = 0xFFFD
            }
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4) { buf in
                let n = JSONScanner.writeUTF8(scalar, to: buf, at: 0)
                out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[0..<n]))
            }
            return next
        default:  // " \ /
            out.append(e)
        }
        return i &+ 2
    }
}

extension ByteScan {
    /// The index of the first byte >= 0x80 at or after `from`, or `p.count` (for a string body without escapes).
    @inlinable @inline(__always)
    static func highStop(_ p: UnsafeRawBufferPointer, from: Int) -> Int {
        let n = p.count
        var i = from
        while i &+ 8 <= n {
            let m = word(p, i) & highs
            if m != 0 { return i &+ (m.trailingZeroBitCount &>> 3) }
            i &+= 8
        }
        while i < n {
            if p[i] >= 0x80 { return i }
            i &+= 1
        }
        return n
    }
}
