import FuzzSupport
import Contract
import JSON
import Routing

/// A route URI (the command line, ROUTE_URIS): a route or a one-line error, never a crash. A route read from
/// a URI is written as JSON (the store, GET /routes) and read back the same.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? LabelFilter(parsing: text)
    _ = try? Address(parsing: text)
    let spec: RouteSpec
    do { spec = try RouteSpec(uri: text) } catch {
        precondition(!error.message.isEmpty, "an empty error")
        return 0
    }
    precondition(spec.id == RouteSpec.stableID(text), "the id is not the URI's stable id")
    let json = spec.json().encoded()
    let back: RouteSpec
    do { back = try RouteSpec(jsonText: json) } catch {
        preconditionFailure("the route's JSON does not read back: \(error): \(String(decoding: json, as: UTF8.self))")
    }
    precondition(back == spec, "written as JSON and read back: \(back), was \(spec)")
    return 0
}

@_cdecl("route_uri_main")
func main(_ argc: CInt, _ argv: Arguments) -> CInt { runFuzzer(argc, argv, fuzz) }
