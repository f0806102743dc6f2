import Contract
import JSON
import Records
import Syscall
import Syslog

/// Routes as emit-syslog knows them, and the receivers they name.
extension Emitter {
    /// A route as emit-syslog knows it: what its target says, worked out once, and its receiver.
    final class Binding {
        let id: String
        let format: SyslogFormat
        let appendTag: String
        let structuredData: ContainerTemplate?
        let multiline: MultilineMatcher?
        let destination: Destination

        init(id: String, target: RouteTarget, options: EmitterOptions, destination: Destination) throws(TargetError) {
            self.id = id
            format = target.format ?? options.defaultFormat
            appendTag = target.appendTag ?? ""
            structuredData = target.structuredData
            multiline = try target.multiline.map { (given) throws(TargetError) in
                try MultilineMatcher(MultilineSpec(given, environment: { options.multilineEnvironment[$0] }))
            }
            self.destination = destination
        }
    }

    /// The binding of `record`'s route; nil (counted as dropped) when it has none that works.
    func binding(of record: Record) -> Binding? { binding(of: record.route) }

    /// The binding of the route of the record in `parts`: the last one found again at once when the record
    /// carries the same route text as the last (its stamp), without hashing its id or comparing its target.
    @inline(__always)
    func bindingOfParts() -> Binding? {
        if parts.routeStamp != 0, parts.routeStamp == lastBound.stamp, let binding = lastBound.binding { return binding }
        let binding = binding(of: parts.route)
        if binding != nil { lastBound = (parts.routeStamp, binding) }
        return binding
    }

    /// The binding of a record's route; nil (counted as dropped) when it has none that works.
    func binding(of route: Route?) -> Binding? {
        guard let route else {
            stats.drop(.noRoute)
            if !warnedNoRoute {
                Self.diagnostic("a record without a route was dropped (emit-syslog reads the output of route)")
                warnedNoRoute = true
            }
            return nil
        }
        if let cached = bindings[route.id], cached.target == route.target {
            guard let binding = cached.binding else {
                stats.drop(.badTarget)
                return nil
            }
            return binding
        }
        var binding: Binding?
        badTargets[route.id] = nil
        do {
            let target = try RouteTarget(json: route.target)
            binding = try Binding(id: route.id, target: target, options: options, destination: destination(for: target, route: route.id))
        } catch {
            Self.diagnostic("route \(route.id): \(error); its records are dropped")
            stats.drop(.badTarget)
            badTargets[route.id] = "\(error)"
        }
        if bindings[route.id] == nil { routeOrder.append(route.id) }
        bindings[route.id] = (route.target, binding)
        lastBound = (0, nil)
        healthDirty = true
        healthFile.changed()
        return binding
    }

    /// The receiver of `target`: routes to the same address with the same protocol share one.
    /// Its metrics are labelled with the id of `route`, the first route that names it.
    func destination(for target: RouteTarget, route: String) -> Destination {
        let key = "\(target.transport)://\(target.address)"
        if let d = destinations[key] { return d }
        let d = Destination(key: key, address: target.address, transport: target.transport, label: labels.take(route), options: options,
                            retry: loop.makeTimer { [unowned self] in timerFired(.retry, key) },
                            handshake: loop.makeTimer { [unowned self] in timerFired(.handshake, key) },
                            refresh: loop.makeTimer { [unowned self] in timerFired(.refresh, key) })
        destinations[key] = d
        receivers.append(d)
        if d.kind == .tcp {
            d.slot = budget.add()
            streams.append(d)
        }
        apply(d, d.machine.start(now: Sys.monotonicNanos()))
        return d
    }
}
