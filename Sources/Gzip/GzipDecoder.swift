import CZlib

/// Why compressed bytes could not be decompressed.
public struct GzipError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Streaming gzip decompression over the system's zlib, for the engine's compressed log generations
/// (`….log.N.gz`). Feed the file's bytes as they are read; the decompressed bytes come out in pieces of at
/// most `pieceBytes`, valid only during the callback. Several gzip members one after the other are one stream.
public final class GzipDecoder {
    private var stream = z_stream()
    private var out: [UInt8]
    /// True between members: the last one ended and no byte of another has come yet.
    public private(set) var atMemberEnd = false

    public init(pieceBytes: Int = 64 * 1024) throws(GzipError) {
        out = [UInt8](repeating: 0, count: max(pieceBytes, 1024))
        let r = logspout_inflate_init(&stream)
        guard r == Z_OK else { throw GzipError("zlib could not start: \(Self.describe(r, nil))") }
    }

    deinit { inflateEnd(&stream) }

    /// Decompresses `input`, handing each piece of output to `output`.
    public func feed(_ input: UnsafeRawBufferPointer, _ output: (UnsafeRawBufferPointer) -> Void) throws(GzipError) {
        guard let base = input.baseAddress, input.count > 0 else { return }
        stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        defer {
            stream.next_in = nil
            stream.avail_in = 0
        }
        let capacity = out.count
        while stream.avail_in > 0 {
            if atMemberEnd {
                // Another member follows.
                inflateReset(&stream)
                atMemberEnd = false
            }
            let r: Int32 = out.withUnsafeMutableBytes { o in
                stream.next_out = o.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(capacity)
                let r = inflate(&stream, Z_NO_FLUSH)
                let produced = capacity - Int(stream.avail_out)
                if produced > 0 { output(UnsafeRawBufferPointer(rebasing: o[0..<produced])) }
                stream.next_out = nil
                return r
            }
            switch r {
            case Z_OK:
                continue
            case Z_STREAM_END:
                atMemberEnd = true
            case Z_BUF_ERROR:
                // No progress possible with this input: all of it is consumed, more is needed.
                if stream.avail_in == 0 { return }
                throw GzipError("gzip data corrupt: \(Self.describe(r, stream.msg))")
            default:
                throw GzipError("gzip data corrupt: \(Self.describe(r, stream.msg))")
            }
        }
    }

    /// The input ended: an error unless it ended with a whole member.
    public func finish() throws(GzipError) {
        guard atMemberEnd else { throw GzipError("gzip data cut short") }
    }

    static func describe(_ code: Int32, _ msg: UnsafePointer<CChar>?) -> String {
        if let msg { return String(cString: msg) }
        return "zlib error \(code)"
    }
}
