import Text

/// Word-at-a-time scanning over raw bytes: finds the first byte of interest
/// eight bytes per step (SWAR), so runs of ordinary text cost a few
/// instructions per word instead of per byte.
///
/// The masks use the classic "has zero byte" trick. Its only false positives
/// sit in bytes *above* a true positive, so the lowest flagged byte of a
/// little-endian word is always exact, which is all the scanners use.
@usableFromInline
enum ByteScan {
    @usableFromInline static let ones: UInt64 = 0x0101_0101_0101_0101
    @usableFromInline static let highs: UInt64 = 0x8080_8080_8080_8080

    /// High bit set in each byte lane equal to `byte` (exact for the lowest lane).
    @inlinable @inline(__always)
    static func lanesEqual(_ w: UInt64, _ byte: UInt8) -> UInt64 {
        let x = w ^ (ones &* UInt64(byte))
        return (x &- ones) & ~x & highs
    }

    /// High bit set in each lane below 0x20 (exact for the lowest lane).
    @inlinable @inline(__always)
    static func lanesControl(_ w: UInt64) -> UInt64 {
        (w &- ones &* 0x20) & ~w & highs
    }

    @inlinable @inline(__always)
    static func word(_ p: UnsafeRawBufferPointer, _ i: Int) -> UInt64 {
        UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt64.self))
    }

    /// The index of the first `"`, `\` or control byte at or after `from`, or `p.count`.
    /// Bytes >= 0x80 are passed over: inside a JSON string they are text.
    @inlinable @inline(__always)
    static func stringStop(_ p: UnsafeRawBufferPointer, from: Int) -> Int {
        let n = p.count
        var i = from
        while i &+ 8 <= n {
            let w = word(p, i)
            let m = lanesEqual(w, 0x22) | lanesEqual(w, 0x5C) | lanesControl(w)
            if m != 0 { return i &+ (m.trailingZeroBitCount &>> 3) }
            i &+= 8
        }
        while i < n {
            let c = p[i]
            if c == 0x22 || c == 0x5C || c < 0x20 { return i }
            i &+= 1
        }
        return n
    }

    /// Like `stringStop`, but also stops at bytes >= 0x80 (which a writer must
    /// check for valid UTF-8).
    @inlinable @inline(__always)
    static func escapeStop(_ p: UnsafeRawBufferPointer, from: Int) -> Int {
        let n = p.count
        var i = from
        while i &+ 8 <= n {
            let w = word(p, i)
            let m = lanesEqual(w, 0x22) | lanesEqual(w, 0x5C) | lanesControl(w) | (w & highs)
            if m != 0 { return i &+ (m.trailingZeroBitCount &>> 3) }
            i &+= 8
        }
        while i < n {
            let c = p[i]
            if c == 0x22 || c == 0x5C || c < 0x20 || c >= 0x80 { return i }
            i &+= 1
        }
        return n
    }

    /// `p[start..<end]` as a typed buffer (for `String(decoding:)` and `Array.append`).
    @inlinable @inline(__always)
    static func slice(_ p: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> UnsafeBufferPointer<UInt8> {
        guard let base = p.baseAddress, end > start else {
            return UnsafeBufferPointer(start: nil, count: 0)
        }
        return UnsafeBufferPointer(start: (base + start).assumingMemoryBound(to: UInt8.self), count: end &- start)
    }

    /// The bytes `p[start..<end]` as a String; invalid UTF-8 becomes U+FFFD
    /// (maximal subparts, as the standard library repairs).
    @inlinable @inline(__always)
    static func string(_ p: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> String {
        String(decoding: slice(p, start, end), as: UTF8.self)
    }

    /// Length of the well-formed UTF-8 sequence starting at `p[i]` (a byte >= 0x80),
    /// as a positive number; or, when it is ill-formed, the negated length of its
    /// maximal subpart (at least 1 byte), which one U+FFFD replaces
    /// (Unicode 15, §3.9, "U+FFFD Substitution of Maximal Subparts").
    @usableFromInline
    static func utf8Sequence(_ p: UnsafeRawBufferPointer, at i: Int) -> Int {
        let n = p.count
        guard let (need, first, last) = UTF8Rules.lead(p[i]) else {
            return -1  // 0x80...0xC1, 0xF5...0xFF: never valid as a first byte
        }
        var lo = first
        var hi = last
        var k = 1
        while k <= need {
            guard i + k < n else { return -k }
            let b = p[i + k]
            if b < lo || b > hi { return -k }
            lo = 0x80
            hi = 0xBF
            k += 1
        }
        return need + 1
    }
}
