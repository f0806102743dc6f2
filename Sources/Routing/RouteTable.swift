/// The routes in force, ready for the record path: each with the bytes a routed record ends with.
/// A new table has a new `generation`, which is how `RecordRouter` knows its per-container cache of
/// matching routes is stale.
public struct RouteTable: Sendable {
    /// One route, compiled.
    public struct Entry: Sendable {
        public let spec: RouteSpec
        /// `,"route":{"id":…,"target":{…}}}` and `"\n"`: what follows a record's bytes (without its
        /// final `}`) to make the routed record.
        public let suffix: [UInt8]

        public init(_ spec: RouteSpec) {
            self.spec = spec
            var s = Array(#","route":"#.utf8)
            s.append(contentsOf: spec.routeJSON())
            s.append(contentsOf: "}\n".utf8)
            suffix = s
        }
    }

    public let routes: [Entry]
    public let generation: UInt64

    public init(_ specs: [RouteSpec], generation: UInt64) {
        routes = specs.map(Entry.init)
        self.generation = generation
    }

    /// A table without routes.
    public static let empty = RouteTable([], generation: 0)
}
