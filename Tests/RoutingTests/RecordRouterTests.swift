import Contract
import JSON
import Records
import Testing
@testable import Routing

/// Routes `input` (whole, or in pieces of `step` bytes) through `table`; returns the output and the errors.
func routeText(_ input: String, _ table: RouteTable, router: inout RecordRouter, step: Int? = nil) -> (String, [String]) {
    var out: [UInt8] = []
    var errors: [String] = []
    let bytes = Array(input.utf8)
    let size = step ?? max(1, bytes.count)
    var i = 0
    while i < bytes.count {
        let piece = Array(bytes[i..<min(bytes.count, i + size)])
        piece.withUnsafeBytes { router.feed($0, table: table, into: &out) { errors.append($0.description) } }
        i += size
    }
    router.finish(table: table, into: &out) { errors.append($0.description) }
    return (String(decoding: out, as: UTF8.self), errors)
}

func routeText(_ input: String, _ table: RouteTable, step: Int? = nil) -> (String, [String]) {
    var router = RecordRouter()
    return routeText(input, table, router: &router, step: step)
}

let web = #"{"id":"aaaa1111","name":"web","image":"nginx","hostname":"aaaa","pid":1,"labels":{"team":"web"}}"#
let db = #"{"id":"bbbb2222","name":"orders_db","image":"postgres","hostname":"bbbb","pid":2,"labels":{"team":"db"}}"#

func line(_ source: String, _ data: String, _ container: String) -> String {
    #"{"time":"2026-11-24T20:42:17.000000001Z","source":"\#(source)","data":"\#(data)","container":\#(container)}"#
}

@Suite("the record path")
struct RecordRouterTests {
    static let all = RouteSpec(id: "all", target: try! RouteTarget(addr: "127.0.0.1:514"))
    static let dbErrors = RouteSpec(id: "db-errors", source: RouteSource(glob: "*_db", types: [.stderr]),
                                    target: try! RouteTarget(addr: "logs:601", transport: .tcp, format: .rfc3164, appendTag: ".db"))

    @Test("a routed record is the line's own bytes plus the route, byte-exact")
    func byteExact() {
        let table = RouteTable([Self.all], generation: 1)
        let input = line("stdout", #"say \"hi\" \\ \u00e9 é \t"#, web)
        let (out, errors) = routeText(input + "\n", table)
        #expect(errors == [])
        #expect(out == String(input.dropLast()) + #","route":{"id":"all","target":{"type":"syslog","addr":"127.0.0.1:514","protocol":"udp"}}}"# + "\n")
    }

    @Test("routed records decode with RecordCodec, the route attached and the rest unchanged")
    func decodable() throws {
        let table = RouteTable([Self.all, Self.dbErrors], generation: 1)
        let input = [line("stderr", "disk full", db), line("stdout", "GET /", web)].joined(separator: "\n") + "\n"
        let (out, errors) = routeText(input, table)
        #expect(errors == [])
        let lines = out.split(separator: "\n").map { Array($0.utf8) }
        #expect(lines.count == 3)
        let records = try lines.map { l throws(JSONError) in try RecordCodec.decode(line: l) }
        #expect(records.map { $0.route?.id } == ["all", "db-errors", "all"])
        #expect(records[1].route?.target == ["type": "syslog", "addr": "logs:601", "protocol": "tcp", "format": "rfc3164", "append_tag": ".db"])
        var original = try RecordCodec.decode(line: Array(line("stderr", "disk full", db).utf8))
        original.route = Route(id: "db-errors", target: Self.dbErrors.target.json())
        #expect(records[1] == original)
    }

    @Test("one routed record per matching route, in the table's order; none when nothing matches")
    func severalRoutes() {
        let table = RouteTable([Self.dbErrors, Self.all], generation: 1)
        let (out, _) = routeText(line("stderr", "a", db) + "\n" + line("stdout", "b", db) + "\n", table)
        #expect(out.split(separator: "\n").map { $0.contains(#""id":"db-errors""#) ? "db-errors" : "all" } == ["db-errors", "all", "all"])
        let none = RouteTable([Self.dbErrors], generation: 1)
        #expect(routeText(line("stdout", "b", db) + "\n", none).0 == "")
        #expect(routeText(line("stdout", "b", db) + "\n", .empty).0 == "")
    }

    @Test("a malformed line in the middle is reported with its number and skipped; the rest goes through")
    func malformedInTheMiddle() {
        let table = RouteTable([Self.all], generation: 1)
        let good = line("stdout", "ok", web)
        let input = [good, good, #"{"time":"t","source":"stdout","data":"x","container":{"id":"a",}}"#, good,
                     #"{"time":"t","source":"stdin","data":"x","container":{"id":"a"}}"#, "", good,
                     #"{"time":"t","source":"stdout","data":"x","container":{"name":"a"}}"#, good].joined(separator: "\n") + "\n"
        for step in [nil, 1, 7, 100] {
            let (out, errors) = routeText(input, table, step: step)
            #expect(errors == [
                #"line 3, column 64: expected '"'"#,
                #"line 5, column 22: field "source" must be "stdout" or "stderr""#,
                "line 6, column 1: unexpected end of input, expected '{'",
                #"line 8, column 54: missing field "container.id""#,
            ])
            #expect(out.split(separator: "\n").count == 5)
        }
    }

    @Test("the errors are RecordCodec's", arguments: [
        #"{"source":"stdout","data":"x","container":{"id":"a"}}"#,
        #"{"time":1,"source":"stdout","data":"x","container":{"id":"a"}}"#,
        #"{"time":"t","source":"stdout","data":"x","container":{"id":"a"}} x"#,
        #"{"time":"t","source":"stdout","data":"x","container":{"id":"a"},"partial":1}"#,
        #"{"time":"t","source":"stdout","data":"x","container":[]}"#,
        #"{"time":"t","source":"stdout","data":"x","container":{"id":"a","pid":1.5}}"#,
        #"{"time":"t","source":"stdout","data":"x","container":{"id":"a","pid":"1"}}"#,
        #"{"time":"t","source":"stdout","data":"x","container":{"id":"a","labels":{"k":1}}}"#,
        #"{"time":"t","source":"stdout","data":"x","container":{"id":"a","labels":[]}}"#,
        #"{"time":"t","source":"stdout","data":"x","container":{"id":"a","name":3}}"#,
        #"{"time":"t","source":"stdout","data":"x","container":{"id":"a","image":3}}"#,
        #"{"time":"t","source":"stdout","data":"x","container":{"id":"a"},"route":{"id":"r"}}"#,
        #"{"time":"t","source":"stdout","data":"x","container":{"id":"a"},"route":{"target":1}}"#,
        #"{"time":"t","source":"stdout","data":"x","container":{"id":"a"},"route":5}"#,
        #"{"time":"t","source":"stdout","data":"bad \x","container":{"id":"a"}}"#,
        #"{"time":"t","source":"stdout","data":"x","container":{"id":"a"},"extra":[1,}"#,
        #"{"time":"t","source":"stdout","data":"x"}"#,
        #"{"time":"t","source":"stdout","container":{"id":"a"}}"#,
        #"{"time":"t","data":"x","container":{"id":"a"}}"#,
        "[1]",
    ])
    func sameErrors(text: String) {
        let table = RouteTable([Self.all], generation: 1)
        var expected = ""
        do { _ = try RecordCodec.decode(line: Array(text.utf8)) } catch { expected = error.description }
        #expect(!expected.isEmpty)
        #expect(routeText(text + "\n", table).1 == [expected])
    }

    @Test("what readers accept goes through: any order, whitespace, escapes in keys, null optionals, a \\r, an earlier route")
    func lenientInput() throws {
        let table = RouteTable([RouteSpec(id: "web", source: RouteSource(name: "web", labels: [LabelFilter(key: "team", value: "web")]),
                                          target: try RouteTarget(addr: "l:1"))], generation: 1)
        let inputs = [
            #" { "container" : {"labels":{"team":"web"},"n\u0061me":"web","id":"aaaa1111","pid":null} , "data":"x","source":"stdout","time":"t","partial":false,"extra":{"a":[1,2]}}  "#,
            #"{"time":"t","source":"stdout","data":"x","container":{"id":"aaaa1111","name":"web","labels":{"team":"web"}}}"# + "\r",
            #"{"time":"t","source":"stdout","data":"x","container":{"id":"aaaa1111","name":"w\u0065b","labels":{"t\u0065am":"web"}},"route":{"id":"old","target":{"x":1}}}"#,
            #"{"time":"t","source":"stdout","data":"x","container":{"id":"aaaa1111","name":"db","name":"web","labels":{"team":"web"}},"route":null}"#,
        ]
        for input in inputs {
            let (out, errors) = routeText(input + "\n", table)
            #expect(errors == [], "\(input)")
            let record = try RecordCodec.decode(line: Array(out.dropLast().utf8))
            #expect(record.route?.id == "web", "\(input)")
            #expect(out.hasSuffix(#""route":{"id":"web","target":{"type":"syslog","addr":"l:1","protocol":"udp"}}}"# + "\n"))
        }
    }

    @Test("a last line without \"\\n\" is routed at the end; an over-long line is reported")
    func endsAndLimits() {
        let table = RouteTable([Self.all], generation: 1)
        #expect(routeText(line("stdout", "last", web), table).0.split(separator: "\n").count == 1)
        var router = RecordRouter(maxLineLength: 250)
        let (out, errors) = routeText(line("stdout", String(repeating: "x", count: 300), web) + "\n" + line("stdout", "ok", web) + "\n", table, router: &router)
        #expect(errors == ["line 1, column 251: line longer than 250 bytes"])
        #expect(out.split(separator: "\n").count == 1)
    }

    @Test("the per-container cache follows the table: a new generation works the matches out again")
    func cacheInvalidation() throws {
        var router = RecordRouter()
        let first = RouteTable([RouteSpec(id: "web", source: RouteSource(name: "web"), target: try RouteTarget(addr: "l:1"))], generation: 1)
        #expect(routeText(line("stdout", "1", web) + "\n", first, router: &router).0.contains(#""id":"web""#))
        #expect(routeText(line("stdout", "2", db) + "\n", first, router: &router).0 == "")
        // The same routes object under a new generation, now taking the db container only.
        let second = RouteTable([RouteSpec(id: "db", source: RouteSource(name: "orders_db"), target: try RouteTarget(addr: "l:2"))], generation: 2)
        #expect(routeText(line("stdout", "3", web) + "\n", second, router: &router).0 == "")
        #expect(routeText(line("stdout", "4", db) + "\n", second, router: &router).0.contains(#""id":"db""#))
        #expect(router.cache.entries.count == 2)
    }

    @Test("a rename is a new cache key: the new name is matched")
    func rename() throws {
        var router = RecordRouter()
        let table = RouteTable([RouteSpec(id: "web", source: RouteSource(name: "web"), target: try RouteTarget(addr: "l:1"))], generation: 1)
        let renamed = web.replacingOccurrences("\"name\":\"web\"", "\"name\":\"web-old\"")
        let (out, _) = routeText([line("stdout", "1", web), line("stdout", "2", renamed), line("stdout", "3", web)].joined(separator: "\n") + "\n", table, router: &router)
        #expect(out.split(separator: "\n").count == 2)
        #expect(router.cache.entries.count == 2)
    }

    @Test("many containers interleaved: each matched right (cache beyond the byte-compared few)")
    func manyContainers() throws {
        var router = RecordRouter()
        let table = RouteTable([RouteSpec(id: "odd", source: RouteSource(glob: "*[13579]"), target: try RouteTarget(addr: "l:1"))], generation: 1)
        var input = ""
        for round in 0..<3 {
            for i in 0..<40 {
                input += line("stdout", "\(round)", #"{"id":"c\#(i)","name":"n\#(i)"}"#) + "\n"
            }
        }
        let (out, errors) = routeText(input, table, router: &router)
        #expect(errors == [])
        #expect(out.split(separator: "\n").count == 60)
        #expect(router.cache.entries.count == 40)
        #expect(router.routedCount == 60)
    }
}

extension String {
    func replacingOccurrences(_ a: String, _ b: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: a) {
            result += rest[..<r.lowerBound] + b
            rest = rest[r.upperBound...]
        }
        return result + rest
    }
}
