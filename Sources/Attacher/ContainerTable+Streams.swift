import Time

/// The lifecycle of each container's logs stream: opened from its cursor, reopened when it breaks (at
/// once, then with backoff), not reopened once the container stopped until it starts again.
extension ContainerTable {
    /// Opens the logs stream of a container, resuming from its cursor.
    mutating func open(_ id: String) -> [Action] {
        guard !shuttingDown, let entry = containers[id], !entry.stream.isOpen else { return [] }
        var actions: [Action] = entry.stream == .waitingRetry ? [.cancelRetry(id)] : []
        let since: Timestamp?
        let onlyNew: Bool
        if let t = entry.output.cursor.time {
            since = t
            onlyNew = false
        } else if let b = entry.baseline {
            since = b == .zero ? nil : b
            onlyNew = false
        } else {
            since = nil
            onlyNew = true
            // Only new lines now; should the stream be opened again before any line came (it broke, the
            // engine restarted), from attach's start, so the lines written meanwhile are not skipped.
            if startTime != .zero { containers[id]?.baseline = startTime }
        }
        entry.output.cursor.reopened()
        containers[id]?.reopenAfterEnd = false
        containers[id]?.stream = .opening
        actions.append(.openStream(id, since: since, onlyNew: onlyNew))
        return actions
    }

    /// Tries the container again after its backoff: reopens its stream if it still runs.
    mutating func armRetry(_ id: String) -> [Action] {
        guard containers[id] != nil else { return [] }
        containers[id]!.stream = .waitingRetry
        return [.armRetry(id, delayMs: containers[id]!.retry.nextDelayMs())]
    }

    mutating func streamOpened(_ id: String, at now: UInt64) {
        guard containers[id]?.stream == .opening else { return }
        containers[id]?.stream = .open(openedAt: now)
    }

    /// Connecting or sending the request failed (`registering`: watching the socket failed).
    mutating func streamOpenFailed(_ id: String, _ error: String, registering: Bool = false) -> [Action] {
        guard let entry = containers[id], entry.stream == .opening else { return [] }
        containers[id]?.stream = .closed
        let report = Action.report(registering ? error : "logs of \(entry.info.name): \(error)")
        return [report] + armRetry(id)
    }

    /// The container's logs cannot be read the one way allowed (`--log-source files` and its file cannot be
    /// opened): its stream stays closed, with no retry, until it starts again.
    mutating func streamSkipped(_ id: String) {
        guard containers[id]?.stream == .opening else { return }
        containers[id]?.stream = .closed
    }

    /// The engine answered 200: the stream works, its backoff starts over.
    mutating func streamFollowing(_ id: String) {
        containers[id]?.retry.reset()
    }

    /// A stream ended: cleanly (the container stopped, or it is gone) or with `failure`.
    mutating func streamEnded(_ id: String, failure: String?, at now: UInt64) -> [Action] {
        guard let entry = containers[id], case .open(let openedAt) = entry.stream else { return [] }
        containers[id]?.stream = .closed
        if shuttingDown { return [] }
        var actions: [Action] = []
        if let failure, engineUp { actions.append(.report("logs of \(entry.info.name): \(failure)")) }
        if entry.reopenAfterEnd { return actions + open(id) }
        guard engineUp else { return actions }  // reconciling reopens what still runs
        let quick = now &- openedAt < 1_000_000_000
        actions.append(.inspect(id, .streamEnded(backoff: quick || failure != nil)))
        return actions
    }

    mutating func retryTimerFired(_ id: String) -> [Action] {
        guard containers[id]?.stream == .waitingRetry else { return [] }
        containers[id]?.stream = .closed
        guard engineUp, !shuttingDown else { return [] }
        return [.inspect(id, .retry)]
    }
}
