import FuzzSupport
import Syslog
import Time

/// The first 12 bytes give a time between the years 0 and 9999 (what RFC 3339 can say); the rest is a
/// layout (DATETIME_FORMAT): no layout is invalid, none crashes. The rest is also tried as an RFC 3339 time.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size >= 12, let data else { return 0 }
    let raw = UnsafeRawBufferPointer(start: data, count: size)
    let s = raw.loadUnaligned(fromByteOffset: 0, as: Int64.self)
    let n = raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
    let first: Int64 = -62_135_596_800  // 0001-01-01T00:00:00Z
    let last: Int64 = 253_402_300_799   // 9999-12-31T23:59:59Z
    let seconds = first + Int64(bitPattern: UInt64(bitPattern: s) % UInt64(last - first + 1))
    let t = Timestamp(seconds: seconds, nanoseconds: Int32(n % 1_000_000_000))
    let rest = UnsafeRawBufferPointer(rebasing: raw[12...])
    let layout = GoTimeLayout(String(decoding: rest, as: UTF8.self))
    var out: [UInt8] = []
    layout.append(t, to: &out)
    precondition(String(decoding: out, as: UTF8.self) == layout.format(t), "append and format differ")
    if let parsed = Timestamp(rfc3339Bytes: rest) {
        _ = layout.format(parsed)
        _ = parsed.description
    }
    return 0
}

@_cdecl("go_time_layout_main")
func main(_ argc: CInt, _ argv: Arguments) -> CInt { runFuzzer(argc, argv, fuzz) }
