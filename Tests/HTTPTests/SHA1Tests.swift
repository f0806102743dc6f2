import Testing
@testable import HTTP

/// Lowercase hex of `bytes`.
func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
}

@Suite("SHA-1 (FIPS 180-4)")
struct SHA1Tests {
    @Test("the FIPS 180 example messages", arguments: [
        ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "a49b2446a02c645bf419f995b67091253a04a259"),
        ("The quick brown fox jumps over the lazy dog", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"),
    ])
    func vectors(message: String, digest: String) {
        #expect(hex(SHA1.hash(Array(message.utf8))) == digest)
    }

    @Test("a million 'a', whole and in uneven pieces")
    func millionA() {
        let a = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(hex(SHA1.hash(a)) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
        var s = SHA1()
        var i = 0, step = 1
        while i < a.count {
            let end = min(a.count, i + step)
            s.update(a[i..<end])
            i = end
            step = step % 97 + 13
        }
        #expect(hex(s.finalize()) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    @Test("messages around the padding boundaries agree fed whole and a byte at a time", arguments: [55, 56, 57, 63, 64, 65, 119, 120, 128])
    func boundaries(length: Int) {
        let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var s = SHA1()
        for b in message { s.update(CollectionOfOne(b)) }
        #expect(s.finalize() == SHA1.hash(message))
    }

    @Test("known digests at the padding boundaries")
    func boundaryDigests() {
        // 55 and 56 bytes straddle the one-block / two-block padding split.
        #expect(hex(SHA1.hash([UInt8](repeating: UInt8(ascii: "a"), count: 55))) == "c1c8bbdc22796e28c0e15163d20899b65621d65a")
        #expect(hex(SHA1.hash([UInt8](repeating: UInt8(ascii: "a"), count: 56))) == "c2db330f6083854c99d4b5bfb6e8f29f201be699")
        #expect(hex(SHA1.hash([UInt8](repeating: UInt8(ascii: "a"), count: 64))) == "0098ba824b5c16427bd7a1122a5a442a25ec644d")
    }
}

@Suite("Base64 (RFC 4648)")
struct Base64Tests {
    static let vectors = [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
                          ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")]

    @Test("the RFC 4648 §10 vectors encode", arguments: vectors)
    func encode(plain: String, encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
    }

    @Test("the RFC 4648 §10 vectors decode", arguments: vectors)
    func decode(plain: String, encoded: String) {
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test("every byte value and both alphabet ends round-trip")
    func allBytes() {
        let bytes = (0...255).map { UInt8($0) }
        #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        #expect(Base64.encode([0xFB, 0xFF, 0xBF]) == "+/+/")
        #expect(Base64.encode([0, 0, 0]) == "AAAA")
    }

    @Test("malformed or non-canonical base64 is refused", arguments: [
        "Zg=", "Zg", "Z===", "====", "Zm9v!A==", "Zm=v", "Zg==Zg==", "Zh==", "Zm9=", "Zm 9v", "Zm9vYg=\n",
    ])
    func malformed(text: String) {
        #expect(Base64.decode(text) == nil)
    }
}
