#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import JSON
import Records

/// The test corpus, found next to this file: `Corpus/valid/*.ndjson` (each
/// line a valid record; a sibling `.canonical` file gives each line's
/// encoding when it differs from the input) and `Corpus/invalid/*.ndjson`
/// (each line malformed; the sibling `.errors` file gives each line's error).
enum Corpus {
    static let directory: String = {
        let file = #filePath
        var end = file.endIndex
        while end > file.startIndex {
            let before = file.index(before: end)
            if file[before] == "/" { end = before; break }
            end = before
        }
        return String(file[..<end]) + "/Corpus"
    }()

    /// The names (without directory) of the files in `Corpus/<folder>` ending in `suffix`, sorted.
    static func files(_ folder: String, suffix: String) -> [String] {
        guard let dir = opendir(directory + "/" + folder) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasSuffix(suffix) { names.append(name) }
        }
        return names.sorted()
    }

    /// The bytes of `Corpus/<path>`, or nil if it cannot be read.
    static func read(_ path: String) -> [UInt8]? {
        guard let f = fopen(directory + "/" + path, "rb") else { return nil }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            if n <= 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return out
    }

    /// `bytes` split at each "\n" (a final "\n" ends the last line).
    static func lines(_ bytes: [UInt8]) -> [[UInt8]] {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { Array($0) }
        if lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }
}

/// What a `LineSplitter` hands out, kept for comparing.
enum Piece: Equatable, CustomStringConvertible {
    case line(Int, [UInt8])
    case tooLong(JSONError)

    var description: String {
        switch self {
        case .line(let n, let bytes): "line \(n): \(String(decoding: bytes, as: UTF8.self).debugDescription)"
        case .tooLong(let e): "too long: \(e)"
        }
    }
}

/// Feeds `chunks` to `splitter`, then finishes it; returns what came out.
func split(_ chunks: [[UInt8]], _ splitter: inout LineSplitter) -> [Piece] {
    var pieces: [Piece] = []
    func keep(_ piece: LineSplitter.Piece) {
        switch piece {
        case .line(let number, let bytes): pieces.append(.line(number, Array(bytes)))
        case .tooLong(let error): pieces.append(.tooLong(error))
        }
    }
    for chunk in chunks {
        splitter.feed(chunk) { (piece: LineSplitter.Piece) in keep(piece) }
    }
    splitter.finish { (piece: LineSplitter.Piece) in keep(piece) }
    return pieces
}

/// `bytes` cut into chunks of `size` bytes.
func chunked(_ bytes: [UInt8], _ size: Int) -> [[UInt8]] {
    stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min($0 + size, bytes.count)]) }
}

/// Decodes `line`, returning the error instead of throwing it.
func decodeResult(_ line: [UInt8], lineNumber: Int = 1) -> Result<Record, JSONError> {
    line.withUnsafeBufferPointer { p in
        Result { () throws(JSONError) -> Record in
            try RecordCodec.decode(line: UnsafeRawBufferPointer(p), lineNumber: lineNumber)
        }
    }
}

func decode(_ text: String) throws(JSONError) -> Record {
    try RecordCodec.decode(line: Array(text.utf8))
}

func encoded(_ r: Record) -> String {
    String(decoding: RecordCodec.encode(r), as: UTF8.self)
}

let exampleID = "8713470e0e2cd7b0f7d6c2a1e5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6"
let exampleContainer = Container(id: exampleID, name: "web", image: "nginx:1.27", hostname: "8713470e0e2c",
                                 pid: 18441, labels: ["team": "db"])
let exampleContainerJSON = #"{"id":"\#(exampleID)","name":"web","image":"nginx:1.27","hostname":"8713470e0e2c","pid":18441,"labels":{"team":"db"}}"#
let exampleTime = "2026-11-24T20:42:17.123456789Z"
