import Contract
import JSON
import Records
import Testing
@testable import Routing

let fullID = "8713470e0e2cd7b0f7d6c2a1e5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6"

func record(_ source: Source = .stdout, id: String = fullID, name: String = "orders_db",
            labels: Labels = ["team": "db", "tier": "backend"]) -> Record {
    Record(time: "2026-11-24T20:42:17.123456789Z", source: source, data: "x",
           container: Container(id: id, name: name, image: "postgres:17", hostname: "8713470e0e2c", pid: 1, labels: labels))
}

@Suite("matching")
struct MatchingTests {
    @Test("the seed's rules, and labels", arguments: [
        // (source, record, expected)
        (RouteSource(), record(), true),
        (RouteSource(id: "8713470e0e2c"), record(), true),
        (RouteSource(id: fullID), record(), true),
        (RouteSource(id: "8713"), record(), true),
        (RouteSource(id: "713470"), record(), false),
        (RouteSource(id: fullID + "0"), record(), false),
        (RouteSource(name: "orders_db"), record(), true),
        (RouteSource(name: "orders"), record(), false),
        (RouteSource(name: "Orders_db"), record(), false),
        (RouteSource(filter: "db"), record(), true),
        (RouteSource(filter: "ders_"), record(), true),
        (RouteSource(filter: "web"), record(), false),
        (RouteSource(filter: "orders_db_"), record(), false),
        (RouteSource(glob: "*_db"), record(), true),
        (RouteSource(glob: "orders_?b"), record(), true),
        (RouteSource(glob: "*_web"), record(), false),
        (RouteSource(glob: "orders"), record(), false),
        (RouteSource(types: [.stdout]), record(.stdout), true),
        (RouteSource(types: [.stdout]), record(.stderr), false),
        (RouteSource(types: [.stderr]), record(.stderr), true),
        (RouteSource(types: [.stdout, .stderr]), record(.stderr), true),
        (RouteSource(labels: [LabelFilter(key: "team")]), record(), true),
        (RouteSource(labels: [LabelFilter(key: "team", value: "db")]), record(), true),
        (RouteSource(labels: [LabelFilter(key: "team", value: "web")]), record(), false),
        (RouteSource(labels: [LabelFilter(key: "team", value: "db"), LabelFilter(key: "tier", value: "backend")]), record(), true),
        (RouteSource(labels: [LabelFilter(key: "team", value: "db"), LabelFilter(key: "zone")]), record(), false),
        (RouteSource(labels: [LabelFilter(key: "team", value: "")]), record(labels: ["team": ""]), true),
        (RouteSource(labels: [LabelFilter(key: "team")]), record(labels: [:]), false),
        // Every criterion must hold.
        (RouteSource(filter: "db", types: [.stderr]), record(.stdout), false),
        (RouteSource(filter: "db", types: [.stderr]), record(.stderr), true),
        (RouteSource(name: "orders_db", id: "9"), record(), false),
    ])
    func rules(source: RouteSource, record: Record, expected: Bool) throws {
        let route = RouteSpec(id: "r", source: source, target: try RouteTarget(addr: "l:1"))
        #expect(route.matches(record) == expected)
    }

    @Test("globs: * ? [set] [!set] escapes, on the whole name", arguments: [
        ("*", "", true), ("*", "anything", true), ("?", "", false), ("?", "é", true),
        ("*_db", "orders_db", true), ("*_db", "orders_db2", false), ("db*", "db", true),
        ("a*b*c", "axxbyyc", true), ("a*b*c", "axxbyy", false), ("*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false),
        ("web-[0-9]", "web-7", true), ("web-[0-9]", "web-x", false), ("web-[!0-9]", "web-x", true),
        ("web-[^0-9]", "web-7", false), ("[]]", "]", true), ("\\*x", "*x", true), ("\\*x", "ax", false),
        ("web-[0-9", "web-1", false),
    ])
    func globs(pattern: String, text: String, expected: Bool) {
        #expect(Glob.matches(pattern, text) == expected)
    }
}
