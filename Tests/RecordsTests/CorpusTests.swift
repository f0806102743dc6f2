import JSON
import Records
import Testing

@Suite("Corpus")
struct CorpusTests {
    @Test("the corpus is there")
    func present() {
        #expect(Corpus.files("valid", suffix: ".ndjson").count >= 3)
        #expect(Corpus.files("invalid", suffix: ".ndjson").count >= 2)
    }

    @Test("valid lines decode and encode to their canonical form", arguments: Corpus.files("valid", suffix: ".ndjson"))
    func valid(_ name: String) throws {
        let input = try #require(Corpus.read("valid/" + name))
        let stem = String(name.dropLast(".ndjson".count))
        let canonical = Corpus.lines(Corpus.read("valid/" + stem + ".canonical") ?? input)
        var splitter = LineSplitter()
        let pieces = split([input], &splitter)
        #expect(pieces.count == canonical.count)
        var decoder = RecordDecoder()
        var partsDecoder = RecordDecoder()
        var parts = RecordParts()
        for (piece, expected) in zip(pieces, canonical) {
            guard case .line(let number, let line) = piece else {
                Issue.record("\(name): \(piece)")
                continue
            }
            switch decodeResult(line, lineNumber: number) {
            case .failure(let error):
                Issue.record("\(name): \(error)")
            case .success(let record):
                let out = RecordCodec.encode(record)
                #expect(String(decoding: out, as: UTF8.self) == String(decoding: expected + [0x0A], as: UTF8.self),
                        "\(name) line \(number)")
                // The canonical form decodes to the same record, and so does
                // the stream decoder with its container cache.
                #expect(try RecordCodec.decode(line: expected) == record, "\(name) line \(number)")
                let viaDecoder = try line.withUnsafeBufferPointer { (p) throws(JSONError) -> Record in
                    try decoder.decode(line: UnsafeRawBufferPointer(p))
                }
                #expect(viaDecoder == record, "\(name) line \(number)")
                // Into reused buffers (emit-syslog's way): the same fields, byte for byte.
                try line.withUnsafeBufferPointer { (p) throws(JSONError) in
                    try partsDecoder.decode(line: UnsafeRawBufferPointer(p), lineNumber: number, into: &parts)
                }
                #expect(parts.record == record, "\(name) line \(number)")
                #expect(parts.time == Array(record.time.utf8) && parts.data == Array(record.data.utf8), "\(name) line \(number)")
            }
        }
    }

    /// Valid lines cut short and with bytes changed: decoding never traps, and
    /// whatever decodes survives encode then decode unchanged.
    @Test("mutated lines fail cleanly or round-trip")
    func mutations() throws {
        let input = try #require(Corpus.read("valid/canonical.ndjson"))
        let bytes: [UInt8] = [0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x3A, 0x2C, 0x00, 0x0A, 0x20, 0x30, 0x75, 0xFF, 0xC3, 0xED]
        var state: UInt64 = 0x5DEE_CE66_D1CE_4E5B
        func random(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        var decoded = 0
        for line in Corpus.lines(input) {
            for cut in stride(from: 0, to: line.count, by: 3) {
                if case .success = decodeResult(Array(line[..<cut])) { decoded += 1 }
            }
            for _ in 0..<300 {
                var mutated = line
                for _ in 0...random(3) {
                    mutated[random(mutated.count)] = bytes[random(bytes.count)]
                }
                if case .success(let record) = decodeResult(mutated) {
                    decoded += 1
                    #expect(try RecordCodec.decode(line: Array(RecordCodec.encode(record).dropLast())) == record)
                }
            }
        }
        #expect(decoded > 0)
    }

    @Test("invalid lines fail with the expected error", arguments: Corpus.files("invalid", suffix: ".ndjson"))
    func invalid(_ name: String) throws {
        let input = try #require(Corpus.read("invalid/" + name))
        let stem = String(name.dropLast(".ndjson".count))
        let errors = try #require(Corpus.read("invalid/" + stem + ".errors"))
        let expected = Corpus.lines(errors).map { String(decoding: $0, as: UTF8.self) }
        var splitter = LineSplitter()
        let pieces = split([input], &splitter)
        #expect(pieces.count == expected.count)
        var decoder = RecordDecoder()
        var parts = RecordParts()
        for (piece, message) in zip(pieces, expected) {
            guard case .line(let number, let line) = piece else {
                Issue.record("\(name): \(piece)")
                continue
            }
            switch decodeResult(line, lineNumber: number) {
            case .success:
                Issue.record("\(name) line \(number) decoded, expected \(message)")
            case .failure(let error):
                #expect(error.description == message)
            }
            let viaDecoder = line.withUnsafeBufferPointer { p in
                Result { () throws(JSONError) -> Record in
                    try decoder.decode(line: UnsafeRawBufferPointer(p), lineNumber: number)
                }
            }
            if case .failure(let error) = viaDecoder {
                #expect(error.description == message)
            } else {
                Issue.record("\(name) line \(number) decoded with RecordDecoder")
            }
            let intoParts = line.withUnsafeBufferPointer { p in
                Result { () throws(JSONError) in
                    try decoder.decode(line: UnsafeRawBufferPointer(p), lineNumber: number, into: &parts)
                }
            }
            if case .failure(let error) = intoParts {
                #expect(error.description == message)
            } else {
                Issue.record("\(name) line \(number) decoded into parts")
            }
        }
    }
}
