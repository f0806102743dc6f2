import FuzzSupport
import JSON
import Records

/// A line: decoded or refused with an error, never a crash. What decodes encodes back to a line that
/// decodes to the same record, and the caching decoder (route's hot path) agrees with the plain one.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    var decoder = RecordDecoder(containers: 2)
    let plain = Result { () throws(JSONError) -> Record in try RecordCodec.decode(line: input) }
    for _ in 0..<2 {
        let cached = Result { () throws(JSONError) -> Record in try decoder.decode(line: input) }
        switch (plain, cached) {
        case (.success(let a), .success(let b)): precondition(a == b, "the caching decoder read \(b), the plain one \(a)")
        case (.failure, .failure): break
        default: preconditionFailure("the caching decoder gave \(cached), the plain one \(plain)")
        }
    }
    guard case .success(let record) = plain else { return 0 }
    let line = RecordCodec.encode(record)
    let back: Record
    do { back = try RecordCodec.decode(line: line) } catch {
        preconditionFailure("the encoded record does not decode: \(error): \(String(decoding: line, as: UTF8.self))")
    }
    precondition(back == record, "encoded and decoded: \(back), was \(record)")
    precondition(RecordCodec.encode(back) == line, "encoded twice, different bytes")
    return 0
}

@_cdecl("record_main")
func main(_ argc: CInt, _ argv: Arguments) -> CInt { runFuzzer(argc, argv, fuzz) }
