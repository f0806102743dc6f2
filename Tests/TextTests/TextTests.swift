import Testing
import Text

@Suite("UTF-8 validation (RFC 3629)")
struct UTF8ValidationTests {
    @Test("well-formed text is accepted", arguments: [
        [], Array("plain ASCII".utf8), Array("é€😀".utf8), [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF],
        [0xF0, 0x90, 0x80, 0x80], [0xE0, 0xA0, 0x80], [0xC2, 0x80], [0x7F],
    ] as [[UInt8]])
    func valid(bytes: [UInt8]) {
        #expect(UTF8Rules.isValid(bytes))
    }

    @Test("overlongs, surrogates, values past U+10FFFF, strays and truncations are refused", arguments: [
        [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF], [0xF0, 0x80, 0x80, 0x80], [0xF0, 0x8F, 0xBF, 0xBF],
        [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0xFE],
        [0x80], [0xBF], [0xC2], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xC2, 0x41], [0xE2, 0x28, 0xA1],
    ] as [[UInt8]])
    func invalid(bytes: [UInt8]) {
        #expect(!UTF8Rules.isValid(bytes))
    }

    @Test("a character split across pieces is valid once whole")
    func incremental() {
        var v = UTF8Validator()
        let first = v.consume([0x61, 0xF0, 0x9F])
        #expect(first)
        #expect(!v.isAtBoundary)
        let second = v.consume([0x98, 0x80])
        #expect(second)
        #expect(v.isAtBoundary)
    }
}

@Suite("hex digits and percent-decoding")
struct HexPercentTests {
    @Test("every hex digit, either case; nothing else")
    func hexDigits() {
        for (i, c) in "0123456789abcdef".utf8.enumerated() { #expect(Hex.value(c) == UInt8(i)) }
        for (i, c) in "ABCDEF".utf8.enumerated() { #expect(Hex.value(c) == UInt8(10 + i)) }
        for c in "gG/:@`x ".utf8 { #expect(Hex.value(c) == nil) }
    }

    @Test("escapes decode to bytes; '+' is a space only when asked")
    func decode() {
        #expect(Percent.decode("a%20b%2Fc") == Array("a b/c".utf8))
        #expect(Percent.decode("a+b") == Array("a+b".utf8))
        #expect(Percent.decode("a+b", plusAsSpace: true) == Array("a b".utf8))
        #expect(Percent.decode("%ff%FE") == [0xFF, 0xFE])
        #expect(Percent.decode("") == [])
    }

    @Test("a malformed escape is refused", arguments: ["%", "%4", "a%zz", "%g0", "%%41"])
    func malformed(text: String) {
        #expect(Percent.decode(text) == nil)
    }
}
