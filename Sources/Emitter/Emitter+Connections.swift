import Contract
import Syscall

/// The I/O side of the receivers: carrying out what their state machines decide, feeding them what the
/// sockets, the resolver and the timers say, and sending what waits.
extension Emitter {
    // MARK: - Actions

    /// Carries out `actions` of `d`'s machine, in order.
    func apply(_ d: Destination, _ actions: [ConnectionStateMachine.Action]) {
        healthDirty = true
        metricsDirty = true
        for action in actions {
            switch action {
            case .resolve: resolver.resolve(key: d.key, address: d.address, kind: d.kind)
            case .connect(let address): open(d, address)
            case .startTLS: startTLS(d)
            case .watchWritable(let on): setWritable(d, on)
            case .arm(let timer, let deadline): loop.arm(d.timer(timer), at: deadline)
            case .disarm(let timer): loop.disarm(d.timer(timer))
            case .close: closeSocket(d)
            case .flush: flushStream(d)
            case .report(let report): Self.diagnostic("\(d.key): \(report)")
            case .countSendError: d.stats.sendErrors += 1
            }
        }
    }

    func timerFired(_ timer: ConnectionStateMachine.Timer, _ key: String) {
        guard let d = destinations[key] else { return }
        apply(d, d.machine.timerFired(timer, now: Sys.monotonicNanos()))
    }

    func takeResolutions() {
        for r in resolver.take() {
            guard let d = destinations[r.key] else { continue }
            let now = Sys.monotonicNanos()
            if r.error == nil {
                apply(d, d.machine.resolved(r.addresses, summary: r.summary, now: now))
            } else {
                apply(d, d.machine.resolveFailed(summary: r.summary, now: now))
            }
        }
    }

    // MARK: - Connections

    /// Opens a socket to `address` and connects it (TCP: the connect goes on in the loop).
    func open(_ d: Destination, _ address: SocketAddress) {
        do {
            d.fd = try Sys.socket(for: address, kind: d.kind)
            if d.kind == .udp {
                Sys.setSendBuffer(d.fd, bytes: 4 << 20)
                _ = try Sys.connect(d.fd, to: address)
                d.registration = try loop.register(d.fd) { [unowned self, unowned d] events in socketEvent(d, events) }
                apply(d, d.machine.connected(now: Sys.monotonicNanos()))
                return
            }
            let connected = try Sys.connect(d.fd, to: address)
            d.wantsWritable = !connected || !d.isEmpty
            d.registration = try loop.register(d.fd, interest: d.wantsWritable ? [.readable, .writable] : .readable) { [unowned self, unowned d] events in
                socketEvent(d, events)
            }
            if connected { connectedStream(d) }
        } catch {
            apply(d, d.machine.connectFailed(error.description, now: Sys.monotonicNanos()))
        }
    }

    func connectedStream(_ d: Destination) {
        Sys.setNoDelay(d.fd)
        apply(d, d.machine.connected(now: Sys.monotonicNanos()))
    }

    /// A TLS session on the connection, and its first handshake step.
    func startTLS(_ d: Destination) {
        do {
            if tlsContext == nil { tlsContext = try Self.makeTLSContext(options.tls) }
            d.tls = try TLSSession(context: tlsContext!, fd: d.fd, host: d.address.host)
        } catch {
            apply(d, d.machine.connectionLost(error.description, now: Sys.monotonicNanos()))
            return
        }
        handshake(d)
    }

    /// One step of a TLS handshake; the socket's events drive the next.
    func handshake(_ d: Destination) {
        guard let tls = d.tls else { return }
        let step: ConnectionStateMachine.HandshakeStep
        switch tls.handshake() {
        case .done: step = .done(tls13: tls.isTLS13)
        case .wantRead: step = .wantRead
        case .wantWrite: step = .wantWrite
        case .closed(let why), .failed(let why): step = .failed(why)
        }
        apply(d, d.machine.handshake(step, now: Sys.monotonicNanos()))
    }

    func setWritable(_ d: Destination, _ on: Bool) {
        guard d.fd >= 0, d.wantsWritable != on, let registration = d.registration else { return }
        d.wantsWritable = on
        try? loop.modify(registration, interest: on ? [.readable, .writable] : .readable)
    }

    /// Closes a receiver's socket (and TLS session), out of the loop.
    func closeSocket(_ d: Destination) {
        if let registration = d.registration { loop.unregister(registration) }
        d.registration = nil
        d.closeSocket()
    }

    func socketEvent(_ d: Destination, _ events: IOEvents) {
        guard d.fd >= 0 else { return }
        if d.kind == .udp {
            // A readable UDP socket carries an ICMP error (connection refused): count it.
            if let e = Sys.socketError(d.fd) {
                d.stats.sendErrors += 1
                apply(d, d.machine.sendFailed("\(SyscallError("send to", d.address.description, e))", now: Sys.monotonicNanos()))
            }
            return
        }
        switch d.machine.state {
        case .connecting:
            if let e = Sys.socketError(d.fd) {
                apply(d, d.machine.connectRefused(e, now: Sys.monotonicNanos()))
            } else if events.canWrite {
                connectedStream(d)
            }
        case .handshaking:
            handshake(d)
        case .confirming:
            // The receiver's first word after the handshake: a session ticket (accepted) or an alert.
            guard let tls = d.tls else { return }
            switch tls.discardInput() {
            case .closed(let why), .failed(let why): apply(d, d.machine.tlsRefused(why, now: Sys.monotonicNanos()))
            default: apply(d, d.machine.tlsAccepted(now: Sys.monotonicNanos()))
            }
        case .ready:
            if let tls = d.tls {
                // What a TLS receiver sends (session tickets, alerts, its close) is read and let go.
                if events.hasInputOrHangup {
                    switch tls.discardInput() {
                    case .closed(let why), .failed(let why):
                        apply(d, d.machine.connectionLost(why, now: Sys.monotonicNanos()))
                        return
                    default: break
                    }
                }
                if !d.isEmpty { flushStream(d) }
                return
            }
            if events.hasInputOrHangup, Sys.peerClosed(d.fd) {
                apply(d, d.machine.peerClosed(now: Sys.monotonicNanos()))
                return
            }
            if events.canWrite { flushStream(d) }
        case .resolving, .idle:
            break
        }
    }

    // MARK: - Sending

    /// After each turn of the event loop: every receiver's next message is tried again, and what waits is
    /// sent — except to a receiver whose connection is full, which is written once it has room.
    func flushAll() {
        for d in receivers {
            d.overflow.retry()
            if !d.isEmpty && !d.wantsWritable { flush(d) }
        }
    }

    func flush(_ d: Destination) {
        guard d.machine.isReady, d.fd >= 0 else { return }
        if d.kind == .udp { flushDatagrams(d) } else { flushStream(d) }
    }

    func flushDatagrams(_ d: Destination) {
        let fd = d.fd
        let outcome = d.datagrams.flush(
            send: { (bytes, ranges) throws(SyscallError) in try Sys.sendmmsg(fd, bytes, ranges) },
            waitWritable: { (try? Sys.waitWritable(fd, timeout: 10)) == true },
            failed: { error in
                d.stats.sendErrors += 1
                let why = SyscallError("send to", d.address.description, error.errno)
                apply(d, d.machine.sendFailed("\(why)", now: Sys.monotonicNanos()))
            })
        metricsDirty = true
        d.stats.sent += outcome.sent
        d.stats.bytes += outcome.bytes
        if outcome.dropped > 0 { d.stats.drop(outcome.droppedReason, outcome.dropped) }
        if outcome.skipped > 0 { d.stats.drop(.sendFailed, outcome.skipped) }
        if outcome.sent > 0 {
            // The first datagram out: the receiver's health is known from now.
            if d.publishedState == .unknown { healthDirty = true }
            if let report = d.overflow.wrote(holding: 0) { say(d, report) }
        }
    }

    /// Writes the queue to a TCP or TLS receiver, as far as the connection takes it; then waits for room
    /// when some is left.
    func flushStream(_ d: Destination) {
        var failure: String?
        var wantsWritable = false
        let pending = d.stream.pendingBytes
        let sent: Int
        if let tls = d.tls {
            sent = d.stream.write { bytes in
                let (n, step) = tls.write(bytes)
                switch step {
                case .done: break
                case .wantWrite: wantsWritable = true
                case .wantRead: break  // readable interest is always on
                case .closed(let why), .failed(let why): failure = why
                }
                return n
            }
        } else {
            if Sys.peerClosed(d.fd) {
                apply(d, d.machine.peerClosed(now: Sys.monotonicNanos()))
                return
            }
            let fd = d.fd
            sent = d.stream.write { bytes in
                do throws(SyscallError) { return try Sys.writeNonBlocking(fd, bytes) } catch {
                    failure = error.description
                    return 0
                }
            }
            wantsWritable = d.stream.pendingBytes > 0
        }
        if pending != d.stream.pendingBytes { metricsDirty = true }
        d.stats.sent += sent
        d.stats.bytes += pending - d.stream.pendingBytes
        budget.update(d.slot, holding: d.stream.heldBytes)
        let progressed = d.stream.pendingBytes < pending
        if progressed, let report = d.overflow.wrote(holding: d.stream.heldBytes) { say(d, report) }
        if let failure {
            apply(d, d.machine.connectionLost(failure, now: Sys.monotonicNanos()))
            return
        }
        setWritable(d, wantsWritable)
        guard progressed else { return }
        let actions = d.machine.wrote()
        if !actions.isEmpty { apply(d, actions) }
    }
}
