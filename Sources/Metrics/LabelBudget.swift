/// Bounds the number of series a label set by users (a route id, a container name) can make: the first
/// `limit` distinct values keep their own label; any further value is folded into one series labelled
/// `LabelBudget.other`, and counted. A value is released when what it names is gone (a container
/// removed, a route deleted), making room again.
///
/// Look a value up once per thing it names (when the container or route appears), not per record.
public struct LabelBudget: Sendable {
    /// The label of the series every value beyond the limit is folded into.
    public static let other = "_other"

    public let limit: Int
    /// How many times a value was folded into `other` because the budget was full.
    public private(set) var folded: UInt64 = 0
    private var counts: [String: Int] = [:]

    public init(limit: Int) { self.limit = max(0, limit) }

    /// The distinct values holding a label of their own.
    public var count: Int { counts.count }

    /// Takes a label for `value`: `value` itself if it already has one or there is room, else `other`
    /// (counted in `folded`). Each `take` is matched by a `release` of what it returned.
    public mutating func take(_ value: String) -> String {
        if let n = counts[value] {
            counts[value] = n + 1
            return value
        }
        guard counts.count < limit, value != Self.other else {
            folded &+= 1
            return Self.other
        }
        counts[value] = 1
        return value
    }

    /// Gives back a label returned by `take`.
    public mutating func release(_ label: String) {
        guard let n = counts[label] else { return }
        counts[label] = n > 1 ? n - 1 : nil
    }
}
