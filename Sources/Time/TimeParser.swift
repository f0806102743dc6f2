#if canImport(Glibc)
import Glibc  // memcmp
#elseif canImport(Musl)
import Musl
#endif

/// Parses record times, remembering the last date and time to the second:
/// Docker's lines come many to a second, and for those only the fraction
/// is read.
public struct TimeParser: Sendable {
    /// The first 19 bytes (`2026-11-24T20:42:17`) of the last time parsed
    /// whose zone was `Z`, and its seconds.
    @usableFromInline var key: (UInt64, UInt64, UInt64) = (0, 0, 0)
    @usableFromInline var keySeconds: Int64?

    public init() {}

    /// The time `b` holds, RFC 3339; nil when it is not that.
    @inlinable @inline(__always)
    public mutating func parse(_ b: UnsafeRawBufferPointer) -> Timestamp? {
        if let nanos = TimeParser.zuluFraction(b), let seconds = keySeconds {
            let same = withUnsafeBytes(of: &key) { memcmp($0.baseAddress!, b.baseAddress!, 19) == 0 }
            if same { return Timestamp(seconds: seconds, nanoseconds: nanos) }
        }
        return parseSlow(b)
    }

    @usableFromInline @inline(never)
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
    @inlinable @inline(__always)
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
