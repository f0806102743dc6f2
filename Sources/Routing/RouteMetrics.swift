import Metrics

/// route's metrics (docs/route.md, "Metrics"), published as `route.prom`: what the record path counted
/// (`RecordRouter.counts()`), the bus's subscribers and what they missed, and one label per route.
///
/// A route's label is taken when it enters the table and given back when it leaves it (deleted, its file
/// gone, discovery moved): its series go with it. Beyond `METRICS_MAX_LABEL_VALUES` routes, the others
/// share the series `route="_other"`, which keeps what its routes counted after they are deleted, so it
/// never goes back.
final class RouteMetrics {
    private(set) var budget: LabelBudget
    /// The label of each route of the table, by route id.
    private(set) var labels: [String: String] = [:]
    /// The generation of the table the labels follow.
    private(set) var generation: UInt64 = .max
    /// Records routed to folded routes that were deleted since.
    private var otherRetained = 0

    init(limit: Int) {
        budget = LabelBudget(limit: limit)
    }

    /// Follows `table`: the router takes it, a route that left gives its label back (what it counted is
    /// forgotten), a new route takes one.
    func sync(_ table: RouteTable, router: inout RecordRouter) {
        guard table.generation != generation else { return }
        generation = table.generation
        router.adopt(table)
        var ids = Set<String>()
        for r in table.routes { ids.insert(r.spec.id) }
        let gone = labels.keys.filter { !ids.contains($0) }.sorted()
        if !gone.isEmpty {
            let routed = router.counts().routed
            for id in gone {
                guard let label = labels.removeValue(forKey: id) else { continue }
                if label == LabelBudget.other { otherRetained &+= routed[id] ?? 0 }
                budget.release(label)
                router.forgetRoute(id)
            }
        }
        for r in table.routes where labels[r.spec.id] == nil {
            labels[r.spec.id] = budget.take(r.spec.id)
        }
    }

    /// Writes the metrics: `refused` input lines, the router's counts (after following `table`), the
    /// bus's `subscribers` and the records they `missed`, and the route files found `invalid`.
    func render(_ text: inout MetricsText, table: RouteTable, router: inout RecordRouter, refused: Int,
                subscribers: Int, missed: Int, invalidFiles: Int = 0) {
        sync(table, router: &router)
        let counts = router.counts()
        text.family("logspout_route_records_read_total", .counter, "Records read on standard input (lines that are records).")
        text.sample("logspout_route_records_read_total", counts.records)
        text.family("logspout_route_lines_refused_total", .counter,
                    "Input lines refused: not a record, or longer than the line bound (each said on standard error).")
        text.sample("logspout_route_lines_refused_total", refused)
        text.family("logspout_route_records_unmatched_total", .counter, "Records no route took, dropped.")
        text.sample("logspout_route_records_unmatched_total", counts.unmatched)
        text.family("logspout_route_routes", .gauge, "Routes in force.")
        text.sample("logspout_route_routes", table.routes.count)
        var byLabel: [String: Int] = [:]
        for (id, label) in labels { byLabel[label, default: 0] &+= counts.routed[id] ?? 0 }
        if otherRetained > 0 { byLabel[LabelBudget.other, default: 0] &+= otherRetained }
        text.family("logspout_route_records_routed_total", .counter,
                    "Routed records written, by route (one per record and route taking it).")
        for label in byLabel.keys.sorted() {
            text.sample("logspout_route_records_routed_total", ["route": label], byLabel[label]!)
        }
        text.family("logspout_route_invalid_route_files_total", .counter,
                    "Route files of ROUTESPATH found invalid, each renamed <name>.invalid.")
        text.sample("logspout_route_invalid_route_files_total", invalidFiles)
        text.family("logspout_route_bus_subscribers", .gauge, "Live subscribers on the bus (httpd's streams).")
        text.sample("logspout_route_bus_subscribers", subscribers)
        text.family("logspout_route_bus_missed_records_total", .counter,
                    "Records dropped from slow subscribers' queues (each told {\"missed\":N}).")
        text.sample("logspout_route_bus_missed_records_total", missed)
        text.family("logspout_route_metrics_folded_total", .counter,
                    "Routes whose label was folded into route=\"_other\" (over METRICS_MAX_LABEL_VALUES).")
        text.sample("logspout_route_metrics_folded_total", budget.folded)
    }
}
