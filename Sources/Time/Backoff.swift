/// Exponential reconnect delays: by default 100 ms, 200, 400, 800, 1600, then 2 s for as long as it takes.
/// Pure: the caller asks for the next delay after each failure and resets after a success.
public struct Backoff: Sendable, Equatable {
    public let initialMs: Int
    public let capMs: Int
    public private(set) var failures = 0

    public init(initialMs: Int = 100, capMs: Int = 2000) {
        self.initialMs = initialMs
        self.capMs = capMs
    }

    /// The delay before the next attempt, after one more failure.
    public mutating func nextDelayMs() -> Int {
        let shift = min(failures, 20)
        failures += 1
        return min(capMs, initialMs << shift)
    }

    public mutating func reset() { failures = 0 }
}
