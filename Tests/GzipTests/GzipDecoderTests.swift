#if canImport(Glibc)
import Glibc
#endif
import Gzip
import Syscall
import Testing

/// Decompresses `bytes` fed in pieces of `piece`; throws what the decoder throws.
func gunzip(_ bytes: [UInt8], piece: Int, pieceBytes: Int = 64 * 1024) throws -> [UInt8] {
    let decoder = try GzipDecoder(pieceBytes: pieceBytes)
    var out: [UInt8] = []
    var at = 0
    while at < bytes.count {
        let end = min(bytes.count, at + piece)
        try withRawBytes(bytes, at..<end) { raw throws(GzipError) in try decoder.feed(raw) { out += $0 } }
        at = end
    }
    try decoder.finish()
    return out
}

/// A file compressed by the system's gzip, as the engine's `compress=true` leaves a rotated log.
func gzipFile(_ content: [UInt8]) throws -> [UInt8] {
    var template = Array("/tmp/logspout-gzip-XXXXXX".utf8CString)
    let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    defer { _ = system("rm -rf \(dir)") }
    try Sys.writeFileAtomically(dir + "/c-json.log.1", content, durable: false)
    guard system("gzip \(dir)/c-json.log.1") == 0 else { throw SyscallError("gzip", dir, Errno(0)) }
    return try Sys.readFile(dir + "/c-json.log.1.gz", maxBytes: 64 << 20)
}

@Suite struct GzipDecoderTests {
    static let log: [UInt8] = (0..<20_000).flatMap { i in
        Array(#"{"log":"line \#(i) of the log\n","stream":"stdout","time":"2026-11-27T21:57:46.\#(100_000_000 + i)Z"}"#.utf8) + [10]
    }

    @Test("a real gzip file decompresses to its bytes, whatever the pieces it is read in", arguments: [1, 7, 4096, 1 << 20])
    func realFile(piece: Int) throws {
        let compressed = try gzipFile(Self.log)
        #expect(compressed.count < Self.log.count / 5)
        #expect(try gunzip(compressed, piece: piece, pieceBytes: 1024) == Self.log)
    }

    @Test("two members one after the other are one stream; an empty file compresses to nothing")
    func members() throws {
        let a = try gzipFile(Array("first\n".utf8))
        let b = try gzipFile(Array("second\n".utf8))
        #expect(try gunzip(a + b, piece: 3) == Array("first\nsecond\n".utf8))
        #expect(try gunzip(try gzipFile([]), piece: 5) == [])
    }

    @Test("cut short, corrupt or not gzip at all: an error, never a crash")
    func errors() throws {
        let compressed = try gzipFile(Self.log)
        #expect(throws: GzipError("gzip data cut short")) { try gunzip(Array(compressed.dropLast(9)), piece: 4096) }
        var corrupt = compressed
        for i in stride(from: 100, to: corrupt.count - 100, by: 997) { corrupt[i] ^= 0x5A }
        #expect(throws: GzipError.self) { try gunzip(corrupt, piece: 4096) }
        #expect(throws: GzipError.self) { try gunzip(Array("{\"log\":\"plain\\n\"}\n".utf8), piece: 4096) }
        #expect(throws: GzipError("gzip data cut short")) { try gunzip([], piece: 1) }
    }
}
