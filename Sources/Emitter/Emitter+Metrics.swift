import JSON
import Metrics
import Syscall

/// What emit-syslog publishes for httpd: its metrics (`emit-syslog.prom`) and each route's receiver health
/// (`emit-syslog.health`), both in `LOGSPOUT_METRICS_DIR` (docs/bus.md, docs/emit-syslog.md).
extension Emitter {
    /// Every counter: emit-syslog's own and all receivers'.
    var totals: EmitterStats {
        var all = stats
        for d in receivers { all.add(d.stats) }
        return all
    }

    /// Works out each receiver's health now; rewrites the health file when one changed, and arms the
    /// timer for the next moment one would change with time alone (none when none would).
    func updateHealth() {
        healthDirty = false
        let now = Sys.monotonicNanos()
        var changed = false
        var next: UInt64?
        for d in receivers {
            let (state, error) = d.machine.health.state(now: now, hasSent: d.stats.sent > 0)
            if state != d.publishedState || error != d.publishedError {
                d.publishedState = state
                d.publishedError = error
                changed = true
            }
            if let t = d.machine.health.nextChange(now: now) { next = min(next ?? t, t) }
        }
        if let next { loop.arm(healthTimer, at: next) } else { loop.disarm(healthTimer) }
        if changed {
            healthFile.changed()
            metrics.changed()  // logspout_syslog_receiver_failing
        }
    }

    /// One JSON object per route, in the order the routes were first seen:
    /// `{"id":…,"addr":…,"transport":…,"state":"ok"|"failing"|"unknown","error":…}`.
    func renderHealth(_ text: inout MetricsText) {
        var out: [UInt8] = []
        for id in routeOrder {
            guard let binding = bindings[id]?.binding else {
                // A route whose target cannot be used: failing, with route's own message.
                guard let why = badTargets[id], let target = bindings[id]?.target else { continue }
                ReceiverHealthLine(id: id, addr: target["addr"]?.string ?? "", transport: target["protocol"]?.string ?? "",
                                   state: .failing, error: why).append(to: &out)
                continue
            }
            let d = binding.destination
            ReceiverHealthLine(id: id, addr: d.address.description, transport: d.machine.transport.rawValue,
                               state: d.publishedState ?? .unknown, error: d.publishedError).append(to: &out)
        }
        text.append(contentsOf: out)
    }

    /// The metrics: records dropped before any receiver and the receivers folded, then per receiver (labelled with its first
    /// route's id, its address and transport; receivers beyond `METRICS_MAX_LABEL_VALUES` summed into one
    /// series labelled `_other`) what it sent, dropped, truncated, its connection and its buffer.
    func renderMetrics(_ t: inout MetricsText) {
        t.family("logspout_syslog_records_dropped_total", .counter,
                 "Records dropped before reaching a receiver, by reason: no_route (a record without a route), bad_target (its route's target cannot be used).")
        t.sample("logspout_syslog_records_dropped_total", ["reason": DropReason.noRoute.label], stats.dropped(.noRoute))
        t.sample("logspout_syslog_records_dropped_total", ["reason": DropReason.badTarget.label], stats.dropped(.badTarget))
        // Before the receivers' series: a file cut at its bound (1 MiB) keeps these.
        t.family("logspout_syslog_metrics_folded_total", .counter,
                 "Receivers folded into the series labelled _other, beyond METRICS_MAX_LABEL_VALUES.")
        t.sample("logspout_syslog_metrics_folded_total", labels.folded)

        var rows: [ReceiverRow] = []
        var other: ReceiverRow?
        for d in receivers {
            let row = ReceiverRow(d, finished: finished)
            if d.label == LabelBudget.other {
                if other == nil { other = ReceiverRow(label: LabelBudget.other) }
                other!.add(row)
            } else {
                rows.append(row)
            }
        }
        if let other { rows.append(other) }

        func family(_ name: String, _ type: MetricType, _ help: String, _ value: (ReceiverRow) -> Int) {
            t.family(name, type, help)
            for r in rows {
                t.sample(name, ["route": r.label, "addr": r.addr, "transport": r.transport], value(r))
            }
        }
        family("logspout_syslog_messages_sent_total", .counter,
               "Messages handed to the kernel for the receiver (a TCP or TLS message once its last byte is).") { $0.stats.sent }
        family("logspout_syslog_bytes_sent_total", .counter,
               "Bytes handed to the kernel for the receiver (TCP: with framing; TLS: before encryption).") { $0.stats.bytes }
        t.family("logspout_syslog_messages_dropped_total", .counter,
                 "Messages dropped, by reason: buffer_full, too_large, unresolvable, refused, send_failed, exit.")
        for r in rows {
            for reason in DropReason.allCases where reason != .noRoute && reason != .badTarget {
                t.sample("logspout_syslog_messages_dropped_total",
                         ["route": r.label, "addr": r.addr, "transport": r.transport, "reason": reason.label], r.stats.dropped(reason))
            }
        }
        family("logspout_syslog_messages_truncated_total", .counter,
               "UDP messages cut to SYSLOG_MAX_SIZE.") { $0.stats.truncated }
        family("logspout_syslog_send_errors_total", .counter,
               "Failures the kernel reported for the receiver (ICMP refusals among them), and failed connections to a UDP receiver.") { $0.stats.sendErrors }
        family("logspout_syslog_connected", .gauge,
               "1 while connected (TCP, TLS: the connection is up, after the handshake; UDP: the socket is set up to a resolved address), else 0.") { $0.connected }
        family("logspout_syslog_reconnects_total", .counter,
               "Connections made to the receiver after its first.") { $0.reconnects }
        family("logspout_syslog_buffered_messages", .gauge,
               "Messages waiting for the receiver.") { $0.bufferedMessages }
        family("logspout_syslog_buffered_bytes", .gauge,
               "Bytes held for the receiver, framing and bookkeeping included.") { $0.bufferedBytes }
        family("logspout_syslog_receiver_failing", .gauge,
               "1 while the receiver is failing (as emit-syslog.health says), else 0.") { $0.failing }

    }
}

/// One receiver's values in the metrics (or the sum of those folded into `_other`).
struct ReceiverRow {
    var label: String
    var addr: String
    var transport: String
    var stats = EmitterStats()
    var connected = 0
    var reconnects = 0
    var bufferedMessages = 0
    var bufferedBytes = 0
    var failing = 0

    init(label: String) {
        self.label = label
        addr = label
        transport = label
    }

    /// `finished`: emit-syslog is ending, and what was still queued was counted as dropped.
    init(_ d: Destination, finished: Bool = false) {
        label = d.label
        addr = d.address.description
        transport = d.machine.transport.rawValue
        stats = d.stats
        connected = d.machine.isReady ? 1 : 0
        reconnects = max(0, d.machine.connections - 1)
        bufferedMessages = d.isEmpty || finished ? 0 : d.queued
        bufferedBytes = finished ? 0 : d.heldBytes
        failing = d.publishedState == .failing ? 1 : 0
    }

    mutating func add(_ other: ReceiverRow) {
        stats.add(other.stats)
        connected += other.connected
        reconnects += other.reconnects
        bufferedMessages += other.bufferedMessages
        bufferedBytes += other.bufferedBytes
        failing += other.failing
    }
}

/// A line of `emit-syslog.health`.
struct ReceiverHealthLine: Equatable {
    var id: String
    var addr: String
    var transport: String
    var state: ReceiverHealth.State
    var error: String?

    func append(to out: inout [UInt8]) {
        var fields: [(String, JSONValue)] = [("id", .string(id)), ("addr", .string(addr)), ("transport", .string(transport)),
                                             ("state", .string(state.rawValue))]
        if state == .failing, let error { fields.append(("error", .string(error))) }
        JSONValue.object(fields).append(to: &out)
        out.append(10)
    }
}
