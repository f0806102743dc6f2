import Time

/// Cuts `out[start...]` to at most `max` bytes without splitting a UTF-8
/// character: when the cut would fall inside a character, the whole
/// character goes. Returns true when it cut.
///
/// Bytes that are not well-formed UTF-8 are treated as one-byte characters,
/// so the result is never longer than `max` and never shorter than needed.
/// A negative `max` counts as 0; a `start` past the end cuts nothing.
@discardableResult
public func truncateUTF8(_ out: inout [UInt8], from start: Int, max: Int) -> Bool {
    let start = Swift.max(start, 0)
    let limit = Swift.max(max, 0)
    guard out.count > start, out.count - start > limit else { return false }
    let cut = start + limit
    var end = cut
    if out[cut] & 0xC0 == 0x80 {
        // Inside a character? Find its first byte (at most three back).
        var lead = cut - 1
        while lead >= start, lead > cut - 4, out[lead] & 0xC0 == 0x80 { lead -= 1 }
        if lead >= start {
            let b = out[lead]
            let length = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 && b < 0xF0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 1
            // The bytes between the lead and the cut are continuation bytes (the
            // loop checked them): when its length reaches the cut, it straddles it.
            if lead + length > cut { end = lead }
        }
    }
    out.removeSubrange(end...)
    return true
}

/// Small helpers for appending text.
enum Digits {
    @inline(__always)
    static func append(_ s: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    @inline(__always)
    static func appendSlice(_ s: StaticString, at offset: Int, count: Int, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start + offset, count: count))
    }

    /// Go's `appendInt`: the decimal digits of `v`, a `-` first when
    /// negative, zero-padded to `width` digits.
    static func append(_ v: Int64, width: Int, to out: inout [UInt8]) {
        if v < 0 { out.append(0x2D) }
        var m = v.magnitude
        if width == 2 && m < 100 {
            out.append(0x30 &+ UInt8(truncatingIfNeeded: m / 10))
            out.append(0x30 &+ UInt8(truncatingIfNeeded: m % 10))
            return
        }
        var buffer: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: 20 digits at most
        var count = 0
        withUnsafeMutableBytes(of: &buffer) { buf in
            repeat {
                buf[23 - count] = 0x30 &+ UInt8(truncatingIfNeeded: m % 10)
                m /= 10
                count += 1
            } while m > 0
            var pad = width - count
            while pad > 0 {
                out.append(0x30)
                pad -= 1
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[(24 - count)...]))
        }
    }

    /// Exactly two digits of `v` (0...99).
    @inline(__always)
    static func append2(_ v: Int, to out: inout [UInt8]) {
        out.append(0x30 &+ UInt8(truncatingIfNeeded: v / 10))
        out.append(0x30 &+ UInt8(truncatingIfNeeded: v % 10))
    }
}

/// Floor division and normalized timestamps, for calendar arithmetic in UTC (the calendar itself is
/// `Timestamp.civil(fromDays:)` and `Timestamp.days(fromCivil:)`).
enum Civil {
    @inline(__always)
    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    @inline(__always)
    static func floorMod(_ a: Int64, _ b: Int64) -> Int64 {
        a - floorDiv(a, b) * b
    }

    /// `t` with its nanoseconds in 0..<1_000_000_000.
    @inline(__always)
    static func normalized(_ t: Timestamp) -> Timestamp {
        if t.nanoseconds >= 0 && t.nanoseconds < 1_000_000_000 { return t }
        let n = Int64(t.nanoseconds)
        return Timestamp(
            seconds: t.seconds &+ floorDiv(n, 1_000_000_000),
            nanoseconds: Int32(floorMod(n, 1_000_000_000)))
    }
}
