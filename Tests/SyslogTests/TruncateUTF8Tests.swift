import Testing
import Syslog

@Suite("Cutting messages on UTF-8 boundaries")
struct TruncateUTF8Tests {
    /// A character of each length, between a one-byte prefix the cut must
    /// leave alone and an ASCII character after it.
    @Test("every cut position around a 1-, 2-, 3- and 4-byte character", arguments: ["a", "é", "€", "😀"])
    func everyBoundary(character: String) {
        let c = Array(character.utf8)
        let prefix: [UInt8] = Array("<14>".utf8)
        let body: [UInt8] = Array("xy".utf8) + c + Array("z".utf8)
        for max in 0...(body.count + 2) {
            var out = prefix + body
            let cut = truncateUTF8(&out, from: prefix.count, max: max)
            let kept: [UInt8]
            if max >= body.count {
                kept = body
            } else if max < 2 {
                kept = Array(body[..<max])
            } else if max < 2 + c.count {
                kept = Array("xy".utf8)  // inside the character: it goes whole
            } else {
                kept = Array("xy".utf8) + c
            }
            #expect(out == prefix + kept, "max \(max)")
            #expect(cut == (max < body.count), "max \(max)")
            #expect(String(validating: out, as: UTF8.self) != nil, "max \(max)")
        }
    }

    @Test("a run of multi-byte characters is cut on a character boundary at every length")
    func runs() {
        let text = "aé€😀é😀€a"
        let bytes = Array(text.utf8)
        var boundaries: [Int] = []
        var offset = 0
        for scalar in text.unicodeScalars {
            boundaries.append(offset)
            offset += String(scalar).utf8.count
        }
        boundaries.append(offset)
        for start in [0, 1, 3] {
            for max in 0...(bytes.count - start + 1) {
                var out = bytes
                truncateUTF8(&out, from: start, max: max)
                let end = boundaries.last { $0 <= start + max }!
                #expect(out == Array(bytes[..<Swift.max(end, start)]), "start \(start) max \(max)")
            }
        }
    }

    @Test("nothing to cut")
    func noCut() {
        var out = Array("héllo".utf8)
        #expect(truncateUTF8(&out, from: 0, max: 6) == false)
        #expect(truncateUTF8(&out, from: 0, max: 100) == false)
        #expect(truncateUTF8(&out, from: 6, max: 0) == false)
        #expect(truncateUTF8(&out, from: 9, max: 0) == false)
        var empty: [UInt8] = []
        #expect(truncateUTF8(&empty, from: 0, max: 0) == false)
        #expect(out == Array("héllo".utf8))
    }

    @Test("a negative limit counts as zero")
    func negative() {
        var out = Array("abc".utf8)
        #expect(truncateUTF8(&out, from: 1, max: -5))
        #expect(out == Array("a".utf8))
    }

    @Test("ill-formed bytes count as one-byte characters", arguments: [
        // (bytes, max, kept)
        ([0x61, 0x80, 0x80, 0x80, 0x80, 0x62], 3, [0x61, 0x80, 0x80]),  // stray continuation bytes
        ([0x61, 0xE2, 0x82, 0x61], 2, [0x61]),  // a cut-short three-byte sequence, cut inside: goes whole
        ([0x61, 0xC3, 0x80, 0x80], 3, [0x61, 0xC3, 0x80]),  // an extra continuation byte after é
        ([0xF0, 0x9F, 0x98, 0x80, 0x80], 4, [0xF0, 0x9F, 0x98, 0x80]),
        ([0xF0, 0x9F, 0x98, 0x80, 0x80], 2, []),
        ([0x80, 0x80, 0x80, 0x80, 0x80], 2, [0x80, 0x80]),
        ([0xFF, 0x80, 0x80], 1, [0xFF]),
    ] as [([UInt8], Int, [UInt8])])
    func illFormed(bytes: [UInt8], max: Int, kept: [UInt8]) {
        var out = bytes
        #expect(truncateUTF8(&out, from: 0, max: max))
        #expect(out == kept)
    }
}
