import Contract
import JSON
import Syscall

/// The route table's owner: routes from route's arguments (URIs), from the routes folder
/// (`ROUTESPATH`), from deis-logger discovery, and those added at run time.
///
/// Ids are unique: adding a route with the id of one already there replaces it, in place, but for the
/// reserved ids: those of the routes from the arguments and from discovery, which `add` refuses (also
/// once such a route was removed) and the routes folder cannot override. Routes added
/// at run time are persisted, one `<id>.json` file each, when the routes folder exists; removing a route
/// removes its file. A route that came from the arguments or from discovery can be removed too; it is
/// gone until route starts again (or, for discovery, until the discovered address changes).
///
/// Every change makes a new `table` (with a new generation), which the record path picks up at once.
/// All methods are meant for one thread: route's event loop. They are what a bus command calls:
/// `add`, `remove`, `list`, `get`.
public final class RouteStore {
    /// Where a route came from.
    public enum Origin: Sendable, Equatable {
        /// route's arguments or `ROUTE_URIS`.
        case argument
        /// A file in the routes folder (loaded, or added at run time and persisted).
        case file
        /// deis-logger discovery through etcd.
        case discovery
        /// Added at run time while the routes folder did not exist: kept in memory only.
        case memory
    }

    struct Item {
        var spec: RouteSpec
        var origin: Origin
    }

    /// The routes folder; nil never persists. Used only while the folder exists.
    public let routesPath: String?
    private var items: [Item] = []
    /// Ids of routes from the arguments, `ROUTE_URIS` or discovery.
    public private(set) var reserved: Set<String> = []
    /// Route files found invalid since start (each renamed `<name>.invalid`, or reported again at the
    /// next reload when it could not be renamed).
    public private(set) var invalidRouteFiles = 0
    private var generation: UInt64 = 0
    /// The routes in force, compiled for `RecordRouter`.
    public private(set) var table = RouteTable.empty

    public init(routesPath: String?) {
        self.routesPath = routesPath
    }

    /// Whether routes are persisted now (the folder exists).
    public var persisting: Bool {
        guard let routesPath else { return false }
        return Sys.isDirectory(routesPath)
    }

    // MARK: The bus's interface

    /// Adds (or replaces) the route described by `json` (either JSON form; a missing id becomes 12 random
    /// hex digits) and persists it when the routes folder exists. Returns the route as stored.
    @discardableResult
    public func add(_ json: JSONValue) throws(RouteError) -> RouteSpec {
        var fresh = RouteSpec.randomID()
        while get(id: fresh) != nil || reserved.contains(fresh) { fresh = RouteSpec.randomID() }
        return try add(try RouteSpec(json: json, defaultID: fresh))
    }

    /// Adds (or replaces) `spec`, persisting it when the routes folder exists. A reserved id is refused.
    @discardableResult
    public func add(_ spec: RouteSpec) throws(RouteError) -> RouteSpec {
        try RouteSpec.validateID(spec.id)
        if reserved.contains(spec.id) { throw Self.reservedError(spec.id) }
        var origin = Origin.memory
        if persisting, let routesPath {
            var bytes = spec.json().encoded()
            bytes.append(0x0A)
            do {
                try Sys.writeFileAtomically(routesPath + "/" + spec.id + ".json", bytes)
            } catch {
                throw RouteError("cannot save route \(spec.id): \(error)", cause: error)
            }
            origin = .file
        }
        put(spec, origin)
        return spec
    }

    /// Removes the route `id` (and its file). False when there is no such route.
    @discardableResult
    public func remove(id: String) throws(RouteError) -> Bool {
        try RouteSpec.validateID(id)
        guard let i = items.firstIndex(where: { $0.spec.id == id }) else { return false }
        if persisting, let routesPath {
            let path = routesPath + "/" + id + ".json"
            if Sys.exists(path) {
                do {
                    try Sys.unlink(path)
                    try Sys.syncDirectory(routesPath)
                } catch {
                    throw RouteError("cannot remove route \(id): \(error)", cause: error)
                }
            }
        }
        items.remove(at: i)
        rebuild()
        return true
    }

    /// Every route, in order: arguments first, then the others in the order they came.
    public func list() -> [RouteSpec] { items.map(\.spec) }

    /// The route `id`.
    public func get(id: String) -> RouteSpec? { items.first { $0.spec.id == id }?.spec }

    /// Keeps `id` for a route from the arguments or discovery: `add` refuses it, the routes folder cannot
    /// override it.
    public func reserve(_ id: String) { reserved.insert(id) }

    static func reservedError(_ id: String) -> RouteError {
        RouteError("route id '\(id)' is reserved: it names a route from route's arguments, ROUTE_URIS or discovery", reserved: true)
    }

    /// Where the route `id` came from.
    public func origin(of id: String) -> Origin? { items.first { $0.spec.id == id }?.origin }

    // MARK: Loading

    /// Adds the routes given as URIs (arguments, `ROUTE_URIS`). Returns one error line per bad URI; the
    /// others are added.
    public func addArguments(_ uris: [String]) -> [String] {
        var errors: [String] = []
        for uri in uris {
            do {
                let spec = try RouteSpec(uri: uri)
                reserve(spec.id)
                put(spec, .argument)
            } catch {
                errors.append(error.message)
            }
        }
        return errors
    }

    /// Reads the routes folder again: routes from files are replaced by what the folder holds now (a
    /// file that went away removes its route). A file that is not a valid route is renamed
    /// `<name>.invalid` (out of the way of the next reload), counted in `invalidRouteFiles` and reported;
    /// one that cannot be read is reported and skipped. One line each, naming it. Returns how many routes
    /// were loaded, and the errors. Without the folder, no route comes from files.
    @discardableResult
    public func reload() -> (loaded: Int, errors: [String]) {
        let before = items.count
        items.removeAll { $0.origin == .file }
        var loaded = 0
        var errors: [String] = []
        if persisting, let routesPath {
            let names: [String]
            do { names = try Sys.listDirectory(routesPath) } catch {
                if items.count != before { rebuild() }
                return (0, ["\(error)"])
            }
            for name in names.sorted() where name.hasSuffix(".json") && !name.hasPrefix(".") {
                let path = routesPath + "/" + name
                if reserved.contains(String(name.dropLast(5))) {
                    errors.append("\(path): \(Self.reservedError(String(name.dropLast(5))).message); the file is ignored")
                    continue
                }
                do {
                    put(try Self.load(path, id: String(name.dropLast(5))), .file, rebuilding: false)
                    loaded += 1
                } catch where error.cause != nil {
                    errors.append("\(path): \(error.message)")
                } catch {
                    invalidRouteFiles += 1
                    errors.append("\(path): \(error.message); \(Self.setAside(path))")
                }
            }
        }
        rebuild()
        return (loaded, errors)
    }

    /// Renames an invalid route file `<name>.invalid`; says what became of it.
    static func setAside(_ path: String) -> String {
        let name = (path.split(separator: "/").last.map(String.init) ?? path) + ".invalid"
        do {
            try Sys.rename(path, to: path + ".invalid")
            return "renamed to \(name)"
        } catch {
            return "skipped (cannot rename it to \(name): \(error))"
        }
    }

    /// Reads one route file, whose name must be `<id>.json`.
    static func load(_ path: String, id: String) throws(RouteError) -> RouteSpec {
        guard RouteID.isValid(id) else { throw RouteError("the file name is not <route id>.json") }
        let bytes: [UInt8]
        do { bytes = try Sys.readFile(path) } catch { throw RouteError("\(error.errno)", cause: error) }
        let spec = try RouteSpec(jsonText: bytes, defaultID: id)
        guard spec.id == id else { throw RouteError("its id '\(spec.id)' is not its file name's") }
        return spec
    }

    /// Sets the route found by discovery (nil removes it), replacing the previous one.
    public func setDiscovered(_ spec: RouteSpec?, id: String = "etcd") {
        reserve(id)
        if let spec {
            put(spec, .discovery)
        } else if let i = items.firstIndex(where: { $0.spec.id == id }) {
            items.remove(at: i)
            rebuild()
        }
    }

    // MARK: The table

    private func put(_ spec: RouteSpec, _ origin: Origin, rebuilding: Bool = true) {
        if let i = items.firstIndex(where: { $0.spec.id == spec.id }) {
            items[i] = Item(spec: spec, origin: origin)
        } else {
            items.append(Item(spec: spec, origin: origin))
        }
        if rebuilding { rebuild() }
    }

    private func rebuild() {
        generation &+= 1
        table = RouteTable(items.map(\.spec), generation: generation)
    }
}
