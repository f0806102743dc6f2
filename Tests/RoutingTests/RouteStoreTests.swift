import Contract
#if canImport(Glibc)
import Glibc
#endif
import JSON
import Records
import Testing
@testable import Routing

/// A fresh temporary folder.
func tempFolder() -> String {
    var template = Array("/tmp/route-test-XXXXXX".utf8CString)
    let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    return String(cString: p!)
}

func writeText(_ path: String, _ text: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    _ = text.withCString { write(fd, $0, strlen($0)) }
    close(fd)
}

func readText(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        bytes += buf[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

func files(_ folder: String) -> [String] {
    guard let dir = opendir(folder) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let e = readdir(dir) {
        let name = withUnsafeBytes(of: &e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}

@Suite("the route store")
struct RouteStoreTests {
    static let dbRoute: JSONValue = ["id": "db", "source": ["filter": "db"], "target": ["type": "syslog", "addr": "logs:514"]]

    @Test("add persists <id>.json atomically, remove deletes it; a new store loads what is there")
    func persistence() throws {
        let folder = tempFolder()
        let store = RouteStore(routesPath: folder)
        #expect(store.persisting)
        let added = try store.add(Self.dbRoute)
        #expect(added.id == "db")
        #expect(files(folder) == ["db.json"])
        #expect(readText(folder + "/db.json") == #"{"id":"db","source":{"filter":"db"},"target":{"type":"syslog","addr":"logs:514","protocol":"udp"}}"# + "\n")
        let generated = try store.add(["target": ["type": "syslog", "addr": "other:514", "protocol": "tcp"]])
        #expect(generated.id.count == 12)
        #expect(files(folder) == ["db.json", generated.id + ".json"].sorted())
        #expect(store.origin(of: "db") == .file)

        let again = RouteStore(routesPath: folder)
        let (loaded, errors) = again.reload()
        #expect(loaded == 2 && errors == [])
        #expect(again.get(id: "db") == added)
        #expect(again.get(id: generated.id) == generated)

        #expect(try store.remove(id: "db"))
        #expect(try !store.remove(id: "db"))
        #expect(files(folder) == [generated.id + ".json"])
        #expect(store.list().map(\.id) == [generated.id])
        #expect(throws: RouteError.self) { try store.remove(id: "../db") }
    }

    @Test("adding an id already there replaces that route, in place")
    func replace() throws {
        let store = RouteStore(routesPath: nil)
        try store.add(["id": "one", "target": ["type": "syslog", "addr": "a:1"]])
        try store.add(["id": "two", "target": ["type": "syslog", "addr": "b:2"]])
        try store.add(["id": "one", "target": ["type": "syslog", "addr": "c:3"]])
        #expect(store.list().map(\.target.addr) == ["c:3", "b:2"])
        #expect(store.origin(of: "one") == .memory)
    }

    @Test("the ids of argument and discovered routes are reserved: refused, also once removed; their files are ignored")
    func reservedIDs() throws {
        let folder = tempFolder()
        let store = RouteStore(routesPath: folder)
        _ = store.addArguments(["syslog://a:1"])
        store.setDiscovered(RouteSpec(id: "etcd", target: try RouteTarget(addr: "d:1")))
        let argument = RouteSpec.stableID("syslog://a:1")
        for id in [argument, "etcd"] {
            #expect(throws: RouteStore.reservedError(id)) { try store.add(["id": .string(id), "target": ["type": "syslog", "addr": "evil:1"]]) }
            #expect(store.answer(.add(route: ["id": .string(id), "target": ["type": "syslog", "addr": "evil:1"]])) == .failed(BusError(
                409, "route id '\(id)' is reserved: it names a route from route's arguments, ROUTE_URIS or discovery")))
        }
        #expect(store.list().map(\.target.addr) == ["a:1", "d:1"])
        #expect(files(folder).isEmpty, "nothing persisted")
        // Removed over the bus, still reserved.
        #expect(try store.remove(id: argument))
        #expect(throws: RouteError.self) { try store.add(["id": .string(argument), "target": ["type": "syslog", "addr": "evil:1"]]) }
        #expect(files(folder).isEmpty)
        // A file left by an earlier version with a reserved id is ignored at start, with one line.
        writeText(folder + "/\(argument).json", #"{"target":{"type":"syslog","addr":"evil:1"}}"#)
        writeText(folder + "/fine.json", #"{"target":{"type":"syslog","addr":"fine:1"}}"#)
        let fresh = RouteStore(routesPath: folder)
        _ = fresh.addArguments(["syslog://a:1"])
        let (loaded, errors) = fresh.reload()
        #expect(loaded == 1)
        #expect(errors == ["\(folder)/\(argument).json: route id '\(argument)' is reserved: it names a route from route's arguments, ROUTE_URIS or discovery; the file is ignored"])
        #expect(fresh.list().map(\.target.addr) == ["a:1", "fine:1"])
    }

    @Test("a store that cannot write its file answers 500, not 400; nothing changes")
    func storeFailure() throws {
        let folder = tempFolder()
        mkdir(folder + "/db.json", 0o755)
        mkdir(folder + "/db.json/inside", 0o755)  // a folder where the file goes: rename cannot replace it
        let store = RouteStore(routesPath: folder)
        guard case .failed(let error) = store.answer(.add(route: ["id": "db", "target": ["type": "syslog", "addr": "logs:514"]])) else {
            Issue.record("the add should fail")
            return
        }
        #expect(error.status == 500)
        #expect(error.message.hasPrefix("cannot save route db: "))
        #expect(store.list().isEmpty)
        #expect(store.answer(.add(route: ["id": "db", "target": ["type": "kafka", "addr": "logs:514"]])) == .failed(BusError(400, "unknown target type 'kafka' (only syslog)")))
    }

    @Test("a file that is not a valid route is reported, naming it, renamed <name>.invalid and counted; the others load")
    func corruptFiles() throws {
        let folder = tempFolder()
        writeText(folder + "/good.json", #"{"id":"good","target":{"type":"syslog","addr":"logs:514"}}"#)
        writeText(folder + "/broken.json", #"{"id":"broken","target":"#)
        writeText(folder + "/http.json", #"{"id":"http","target":{"type":"http","addr":"es:9200"}}"#)
        writeText(folder + "/other.json", #"{"id":"not-other","target":{"type":"syslog","addr":"logs:514"}}"#)
        writeText(folder + "/noid.json", #"{"adapter":"syslog+tcp","address":"logs:601"}"#)
        writeText(folder + "/.good.json.tmp", "half-written")
        writeText(folder + "/README", "not a route")
        let store = RouteStore(routesPath: folder)
        let (loaded, errors) = store.reload()
        #expect(loaded == 2)
        #expect(errors == [
            "\(folder)/broken.json: not JSON: line 1, column 25: unexpected end of input, expected a value; renamed to broken.json.invalid",
            "\(folder)/http.json: unknown target type 'http' (only syslog); renamed to http.json.invalid",
            "\(folder)/other.json: its id 'not-other' is not its file name's; renamed to other.json.invalid",
        ])
        #expect(store.list().map(\.id) == ["good", "noid"])
        #expect(store.get(id: "noid")?.target.transport == .tcp)
        #expect(store.invalidRouteFiles == 3)
        #expect(files(folder) == [".good.json.tmp", "README", "broken.json.invalid", "good.json", "http.json.invalid", "noid.json", "other.json.invalid"])
        #expect(readText(folder + "/broken.json.invalid") == #"{"id":"broken","target":"#, "kept as it was")
        // Set aside: the next reload (SIGHUP) neither sees nor counts them again.
        let again = store.reload()
        #expect(again.loaded == 2 && again.errors.isEmpty)
        #expect(store.invalidRouteFiles == 3)
    }

    @Test("an invalid file that cannot be renamed is reported and skipped, and counted at each reload")
    func invalidFileNotRenamed() throws {
        let folder = tempFolder()
        writeText(folder + "/bad.json", #"{"id":"bad","target":{"type":"syslog","addr":"logs:0"}}"#)
        mkdir(folder + "/bad.json.invalid", 0o755)
        mkdir(folder + "/bad.json.invalid/inside", 0o755)  // rename cannot replace a folder that is not empty
        let store = RouteStore(routesPath: folder)
        let (loaded, errors) = store.reload()
        #expect(loaded == 0)
        #expect(errors.count == 1)
        #expect(errors.first?.hasPrefix("\(folder)/bad.json: port '0' of 'logs:0' is not in 1…65535; skipped (cannot rename it to bad.json.invalid: ") == true,
                "\(errors)")
        #expect(store.invalidRouteFiles == 1)
        #expect(store.reload().errors.count == 1)
        #expect(store.invalidRouteFiles == 2)
        #expect(store.list().isEmpty)
    }

    @Test("reload replaces the routes from files with what the folder holds now; other routes stay")
    func reload() throws {
        let folder = tempFolder()
        let store = RouteStore(routesPath: folder)
        #expect(store.addArguments(["syslog://arg:514", "bogus://x"]) == ["bad route URI 'bogus://x': unknown scheme 'bogus' (syslog, syslog+udp, syslog+tcp or syslog+tls)"])
        store.setDiscovered(RouteSpec(id: "etcd", target: try RouteTarget(addr: "deis:514", format: .deis)))
        writeText(folder + "/one.json", #"{"id":"one","target":{"type":"syslog","addr":"one:514"}}"#)
        #expect(store.reload().loaded == 1)
        let generation = store.table.generation
        #expect(store.list().map(\.id) == [RouteSpec.stableID("syslog://arg:514"), "etcd", "one"])
        unlink(folder + "/one.json")
        writeText(folder + "/two.json", #"{"id":"two","target":{"type":"syslog","addr":"two:514"}}"#)
        #expect(store.reload().loaded == 1)
        #expect(store.list().map(\.id) == [RouteSpec.stableID("syslog://arg:514"), "etcd", "two"])
        #expect(store.table.generation > generation)
        #expect(store.table.routes.map(\.spec.id) == store.list().map(\.id))
    }

    @Test("without the folder nothing is persisted; removing an argument route removes it from this run")
    func noFolder() throws {
        let store = RouteStore(routesPath: "/nonexistent/routes")
        #expect(!store.persisting)
        let reloaded = store.reload()
        #expect(reloaded.loaded == 0 && reloaded.errors.isEmpty)
        _ = store.addArguments(["syslog://arg:514"])
        try store.add(Self.dbRoute)
        #expect(store.origin(of: "db") == .memory)
        #expect(try store.remove(id: RouteSpec.stableID("syslog://arg:514")))
        #expect(store.list().map(\.id) == ["db"])
    }

    @Test("every change is a new table generation")
    func generations() throws {
        let store = RouteStore(routesPath: nil)
        var seen: [UInt64] = [store.table.generation]
        _ = store.addArguments(["syslog://a:1"])
        seen.append(store.table.generation)
        try store.add(Self.dbRoute)
        seen.append(store.table.generation)
        store.setDiscovered(RouteSpec(id: "etcd", target: try RouteTarget(addr: "d:1")))
        seen.append(store.table.generation)
        _ = try store.remove(id: "db")
        seen.append(store.table.generation)
        #expect(Set(seen).count == seen.count)
    }
}
