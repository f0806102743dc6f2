import FuzzSupport
import Docker
import JSON
import Time

/// Any bytes as one line of a json-file log: an entry or a typed error, never a crash. An entry's log is
/// valid UTF-8 (invalid bytes and lone surrogates become U+FFFD), its partial flag says whether it ends in
/// "\n", its time is the 30 bytes the logs endpoint writes and reads back as the entry's time, and the line
/// is JSON the generic parser accepts too.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    var parser = JSONFileEntryParser()
    guard let entry = try? parser.parse(input) else { return 0 }
    precondition(String(validating: parser.log, as: UTF8.self) != nil, "the log is not valid UTF-8: \(parser.log)")
    precondition(entry.partial == (parser.log.last != 0x0A), "partial \(entry.partial) for \(parser.log)")
    precondition(parser.time.count == 30 && parser.time[19] == UInt8(ascii: ".") && parser.time[29] == UInt8(ascii: "Z"),
                 "the time is not nine digits in UTC: \(String(decoding: parser.time, as: UTF8.self))")
    let back = parser.time.withUnsafeBytes { Timestamp(rfc3339Bytes: $0) }
    precondition(back == entry.time, "the time reads back as \(String(describing: back)), not \(entry.time)")
    do { _ = try JSONValue.parse(input) } catch {
        preconditionFailure("an entry the generic parser refuses: \(error)")
    }
    return 0
}

@_cdecl("json_file_entry_main")
func main(_ argc: CInt, _ argv: Arguments) -> CInt { runFuzzer(argc, argv, fuzz) }
