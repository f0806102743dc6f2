import FuzzSupport
import Contract
import JSON
import Routing

/// A route's JSON (POST /routes, ROUTESPATH files, etcd): a route or a one-line error, never a crash. A route
/// is written back (the store, GET /routes) and read back the same, and so is its target (route to
/// emit-syslog).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Array(UnsafeRawBufferPointer(start: data, count: size))
    if let value = try? JSONValue.parse(input), let target = try? RouteTarget(json: value) {
        let back: RouteTarget
        do { back = try RouteTarget(json: target.json()) } catch {
            preconditionFailure("the target's JSON does not read back: \(error): \(target.json())")
        }
        precondition(back == target, "the target written and read back: \(back), was \(target)")
    }
    let spec: RouteSpec
    do { spec = try RouteSpec(jsonText: input, defaultID: "fuzz") } catch {
        precondition(!error.message.isEmpty, "an empty error")
        return 0
    }
    let json = spec.json().encoded()
    let back: RouteSpec
    do { back = try RouteSpec(jsonText: json) } catch {
        preconditionFailure("the route's JSON does not read back: \(error): \(String(decoding: json, as: UTF8.self))")
    }
    precondition(back == spec, "written and read back: \(back), was \(spec)")
    return 0
}

@_cdecl("route_json_main")
func main(_ argc: CInt, _ argv: Arguments) -> CInt { runFuzzer(argc, argv, fuzz) }
