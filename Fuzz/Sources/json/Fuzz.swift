import FuzzSupport
import JSON

/// Any bytes: parsed or refused with an error, never a crash; what parses writes back to the same value,
/// and writing that again gives the same bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    guard let value = try? JSONValue.parse(input) else {
        var s = JSONScanner(input, maxDepth: 8)
        _ = try? s.skipValue()
        return 0
    }
    let encoded = value.encoded()
    let again: JSONValue
    do { again = try JSONValue.parse(encoded) } catch {
        preconditionFailure("what the writer wrote does not parse: \(error): \(String(decoding: encoded, as: UTF8.self))")
    }
    precondition(again == value, "written and read back: \(again), was \(value)")
    precondition(again.encoded() == encoded, "written twice, different bytes")
    // The scanner skips what parses.
    var s = JSONScanner(input)
    do { try s.skipValue(); try s.expectEnd() } catch { preconditionFailure("parses, but skipValue says \(error)") }
    return 0
}

@_cdecl("json_main")
func main(_ argc: CInt, _ argv: Arguments) -> CInt { runFuzzer(argc, argv, fuzz) }
