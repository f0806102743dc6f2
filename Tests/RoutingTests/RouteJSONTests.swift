import Contract
import JSON
import Records
import Testing
@testable import Routing

func spec(_ text: String) throws(RouteError) -> RouteSpec {
    try RouteSpec(jsonText: Array(text.utf8))
}

@Suite("route JSON")
struct RouteJSONTests {
    @Test("the seed's form, read and written back in a fixed order")
    func seedForm() throws {
        let text = #"{"id":"3631c027fb1b","source":{"filter":"db","types":["stderr"],"labels":["k:v","k2"]},"target":{"type":"syslog","addr":"logs.example.com:514","append_tag":".db","protocol":"tcp","format":"rfc3164"}}"#
        let r = try spec(text)
        #expect(r.id == "3631c027fb1b")
        #expect(r.source == RouteSource(filter: "db", types: [.stderr], labels: [LabelFilter(key: "k", value: "v"), LabelFilter(key: "k2")]))
        #expect(try r.target == RouteTarget(addr: "logs.example.com:514", transport: .tcp, format: .rfc3164, appendTag: ".db"))
        #expect(r.json().description == #"{"id":"3631c027fb1b","source":{"filter":"db","types":["stderr"],"labels":["k:v","k2"]},"target":{"type":"syslog","addr":"logs.example.com:514","protocol":"tcp","format":"rfc3164","append_tag":".db"}}"#)
        #expect(try RouteSpec(json: r.json()) == r)
    }

    @Test("every source field; no source and empty fields take everything")
    func sourceFields() throws {
        let r = try spec(#"{"id":"a","source":{"name":"web","glob":"w*","id":"8713","filter":"e","types":["stdout","stderr"],"labels":[]},"target":{"type":"syslog","addr":"l:1"}}"#)
        #expect(r.source == RouteSource(filter: "e", name: "web", glob: "w*", id: "8713", types: [.stdout, .stderr]))
        #expect(r.json().description == #"{"id":"a","source":{"filter":"e","name":"web","glob":"w*","id":"8713","types":["stdout","stderr"]},"target":{"type":"syslog","addr":"l:1","protocol":"udp"}}"#)
        let all = try spec(#"{"id":"b","source":{"name":"","types":null},"target":{"type":"syslog","addr":"l:1"}}"#)
        #expect(all.source.isEmpty)
        #expect(all.json().description == #"{"id":"b","target":{"type":"syslog","addr":"l:1","protocol":"udp"}}"#)
        #expect(try spec(#"{"id":"c","source":null,"target":{"type":"syslog","addr":"l:1"}}"#).source.isEmpty)
    }

    @Test("other target members are options, passed through in order with their JSON values")
    func passThrough() throws {
        let r = try spec(#"{"id":"a","target":{"structured_data":"[x@1 a=\"b\"]","type":"syslog","tcp_framing":"octet-counted","addr":"l:1","max":1.50,"deep":{"k":[1,null]}}}"#)
        #expect(r.target.json().description == #"{"type":"syslog","addr":"l:1","protocol":"udp","structured_data":"[x@1 a=\"b\"]","tcp_framing":"octet-counted","max":1.50,"deep":{"k":[1,null]}}"#)
        #expect(String(decoding: r.routeJSON(), as: UTF8.self) == #"{"id":"a","target":{"type":"syslog","addr":"l:1","protocol":"udp","structured_data":"[x@1 a=\"b\"]","tcp_framing":"octet-counted","max":1.50,"deep":{"k":[1,null]}}}"#)
    }

    @Test("a missing id is 12 random lowercase hex digits, or the default given")
    func missingID() throws {
        let a = try spec(#"{"target":{"type":"syslog","addr":"l:1"}}"#)
        let b = try spec(#"{"id":"","target":{"type":"syslog","addr":"l:1"}}"#)
        #expect(a.id.count == 12 && a.id.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(b.id.count == 12 && a.id != b.id)
        #expect(try RouteSpec(json: ["target": ["type": "syslog", "addr": "l:1"]], defaultID: "file-id").id == "file-id")
    }

    @Test("gliderlabs/logspout's flat form")
    func flatForm() throws {
        let r = try spec(#"{"id":"abc","adapter":"syslog+tcp","address":"logs:601","filter_name":"*_db","filter_id":"3631","filter_sources":["stderr"],"filter_labels":["team:db"],"options":{"append_tag":".db","structured_data":"x"}}"#)
        #expect(try r == RouteSpec(id: "abc",
                                   source: RouteSource(glob: "*_db", id: "3631", types: [.stderr], labels: [LabelFilter(key: "team", value: "db")]),
                                   target: RouteTarget(addr: "logs:601", transport: .tcp, appendTag: ".db", options: ["structured_data": "x"])))
        let plain = try spec(#"{"id":"p","adapter":"syslog","address":"logs:514","filter_name":"web","filter_id":"","filter_sources":[],"filter_labels":null,"options":{}}"#)
        #expect(try plain == RouteSpec(id: "p", source: RouteSource(name: "web"), target: RouteTarget(addr: "logs:514")))
        #expect(try spec(#"{"id":"u","adapter":"syslog+udp","address":"logs:514"}"#).target.transport == .udp)
        #expect(try spec(#"{"id":"t","adapter":"syslog+tls","address":"logs:6514"}"#).target.transport == .tls)
        #expect(try spec(#"{"id":"t","target":{"type":"syslog","addr":"logs:6514","protocol":"tls"}}"#).target.transport == .tls)
        // Written back in the seed's form.
        #expect(plain.json().description == #"{"id":"p","source":{"name":"web"},"target":{"type":"syslog","addr":"logs:514","protocol":"udp"}}"#)
    }

    @Test("errors name the problem", arguments: [
        (#"[]"#, "a route must be a JSON object"),
        (#"{"id":"a"}"#, #"missing field "target""#),
        // The target's own refusals (the contract's: ContractTests) reach route as they are.
        (#"{"id":"a","target":{"addr":"l:1"}}"#, #"missing field "target.type""#),
        (#"{"id":"a","target":{"type":"syslog","addr":"l:99999"}}"#, "port '99999' of 'l:99999' is not in 1…65535"),
        (#"{"id":"a","target":[]}"#, #"field "target" must be an object"#),
        (#"{"id":"a","source":[],"target":{"type":"syslog","addr":"l:1"}}"#, #"field "source" must be an object"#),
        (#"{"id":"a","source":{"typs":["stderr"]},"target":{"type":"syslog","addr":"l:1"}}"#, #"unknown field "source.typs" (filter, name, glob, id, types or labels)"#),
        (#"{"id":"a","source":{"types":["stdin"]},"target":{"type":"syslog","addr":"l:1"}}"#, #"field "source.types" must be an array of "stdout" or "stderr", not "stdin""#),
        (#"{"id":"a","source":{"types":"stderr"},"target":{"type":"syslog","addr":"l:1"}}"#, #"field "source.types" must be an array of "stdout" or "stderr""#),
        (#"{"id":"a","source":{"labels":[1]},"target":{"type":"syslog","addr":"l:1"}}"#, #"field "source.labels" must be an array of "key" or "key:value", not 1"#),
        (#"{"id":"a","extra":1,"target":{"type":"syslog","addr":"l:1"}}"#, #"unknown field "extra" (a route has id, source and target)"#),
        (#"{"id":"../etc","target":{"type":"syslog","addr":"l:1"}}"#, "invalid route id '../etc' (1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit)"),
        (#"{"id":1,"target":{"type":"syslog","addr":"l:1"}}"#, #"field "id" must be a string"#),
        (#"{"id":"a","adapter":"raw","address":"l:1"}"#, "unknown adapter 'raw' (syslog, syslog+udp, syslog+tcp or syslog+tls)"),
        (#"{"id":"a","address":"l:1"}"#, #"missing field "adapter""#),
        (#"{"id":"a","adapter":"syslog"}"#, #"missing field "address""#),
        (#"{"id":"a","adapter":"syslog","address":"l:1","filter_image":"x"}"#, #"unknown field "filter_image" in a flat (gliderlabs) route"#),
        (#"{"id":"a","adapter":"syslog","address":"l:1","options":{"protocol":"tcp"}}"#, "option 'protocol' is set by the adapter and address"),
        (#"{"id":"a","#, "not JSON: line 1, column 11: unexpected end of input, expected '\"'"),
    ])
    func errors(text: String, message: String) {
        #expect(throws: RouteError(message)) { try spec(text) }
    }

    @Test("ids: a bad one is refused (the rule: ContractTests); a random one follows the rule")
    func ids() {
        #expect(throws: RouteError.self) { try RouteSpec.validateID("../x") }
        let id = RouteSpec.randomID()
        #expect(id.count == 12 && RouteID.isValid(id))
    }
}
