/// One container label.
public struct Label: Sendable, Equatable {
    public var key: String
    public var value: String

    @inline(__always)
    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}

/// A container's labels, in the order given (the engine's order; a key may in principle repeat, and the
/// first one counts).
public struct Labels: Sendable, Equatable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
    public private(set) var items: [Label]

    public init() { items = [] }
    public init(_ items: [Label]) { self.items = items }
    public init(dictionaryLiteral elements: (String, String)...) { items = elements.map { Label($0.0, $0.1) } }

    public var startIndex: Int { items.startIndex }
    public var endIndex: Int { items.endIndex }
    public subscript(position: Int) -> Label { items[position] }

    /// The value of the first label named `key`.
    public subscript(key: String) -> String? {
        for l in items where l.key == key { return l.value }
        return nil
    }

    public mutating func append(_ key: String, _ value: String) { items.append(Label(key, value)) }
    public mutating func reserveCapacity(_ n: Int) { items.reserveCapacity(n) }
}
