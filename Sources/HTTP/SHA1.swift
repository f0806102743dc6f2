// SHA-1 (FIPS 180-4 §6.1), in pure Swift, for the one place HTTP needs it: the WebSocket handshake's
// Sec-WebSocket-Accept (RFC 6455 §4.2.2). SHA-1 is broken for collision resistance: nothing else should
// use it.

/// An incremental SHA-1 digest (FIPS 180-4 §6.1): `update` with bytes in pieces of any size, then `finalize`.
public struct SHA1 {
    private var h0: UInt32 = 0x6745_2301
    private var h1: UInt32 = 0xEFCD_AB89
    private var h2: UInt32 = 0x98BA_DCFE
    private var h3: UInt32 = 0x1032_5476
    private var h4: UInt32 = 0xC3D2_E1F0
    /// Bytes waiting for a whole 64-byte block.
    private var pending: [UInt8] = []
    /// The message length so far, in bytes.
    private var length: UInt64 = 0

    public init() {}

    /// The 20-byte digest of `bytes` (FIPS 180-4 §6.1.2).
    public static func hash(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var s = SHA1()
        s.update(bytes)
        return s.finalize()
    }

    /// Adds `bytes` to the message.
    public mutating func update(_ bytes: some Collection<UInt8>) {
        if bytes.withContiguousStorageIfAvailable({ update(UnsafeRawBufferPointer($0)) }) != nil { return }
        let copy = Array(bytes)
        copy.withUnsafeBytes { update($0) }
    }

    /// Adds `bytes` to the message.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        length &+= UInt64(bytes.count)
        var i = 0
        if !pending.isEmpty {
            let take = min(64 - pending.count, bytes.count)
            pending.append(contentsOf: bytes[0..<take])
            i = take
            guard pending.count == 64 else { return }
            pending.withUnsafeBytes { compress($0, at: 0) }
            pending.removeAll(keepingCapacity: true)
        }
        while bytes.count - i >= 64 {
            compress(bytes, at: i)
            i += 64
        }
        pending.append(contentsOf: bytes[i...])
    }

    /// Pads the message (FIPS 180-4 §5.1.1) and returns its 20-byte digest; the value is spent afterwards.
    public mutating func finalize() -> [UInt8] {
        let bits = length &* 8
        var tail: [UInt8] = [0x80]
        tail.append(contentsOf: repeatElement(0, count: (119 - pending.count) % 64))
        for shift in stride(from: 56, through: 0, by: -8) { tail.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        let total = length
        tail.withUnsafeBytes { update($0) }
        length = total
        var digest: [UInt8] = []
        digest.reserveCapacity(20)
        for h in [h0, h1, h2, h3, h4] {
            for shift in stride(from: 24, through: 0, by: -8) { digest.append(UInt8(truncatingIfNeeded: h >> UInt32(shift))) }
        }
        return digest
    }

    /// Processes one 64-byte block starting at `offset` (FIPS 180-4 §6.1.2), with a 16-word rolling schedule.
    private mutating func compress(_ block: UnsafeRawBufferPointer, at offset: Int) {
        var w = InlineArray<16, UInt32>(repeating: 0)
        for t in 0..<16 {
            let o = offset + 4 * t
            w[t] = UInt32(block[o]) << 24 | UInt32(block[o + 1]) << 16 | UInt32(block[o + 2]) << 8 | UInt32(block[o + 3])
        }
        var a = h0, b = h1, c = h2, d = h3, e = h4
        for t in 0..<80 {
            if t >= 16 {
                let x = w[(t - 3) & 15] ^ w[(t - 8) & 15] ^ w[(t - 14) & 15] ^ w[t & 15]
                w[t & 15] = x << 1 | x >> 31
            }
            let f: UInt32, k: UInt32
            switch t {
            case 0..<20: f = (b & c) | (~b & d); k = 0x5A82_7999
            case 20..<40: f = b ^ c ^ d; k = 0x6ED9_EBA1
            case 40..<60: f = (b & c) | (b & d) | (c & d); k = 0x8F1B_BCDC
            default: f = b ^ c ^ d; k = 0xCA62_C1D6
            }
            let temp = (a << 5 | a >> 27) &+ f &+ e &+ k &+ w[t & 15]
            e = d
            d = c
            c = b << 30 | b >> 2
            b = a
            a = temp
        }
        h0 &+= a
        h1 &+= b
        h2 &+= c
        h3 &+= d
        h4 &+= e
    }
}
