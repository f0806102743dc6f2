/// httpd's one copy of the live stream (docs/http.md#slow-clients): what route's bus sent, in order, and
/// a cursor per streaming client. A stalled client costs a cursor, not a copy. Bounded in bytes: when an
/// element does not fit, the oldest go (down to three quarters of the bound, so that this happens once
/// per quarter of it), and the clients whose cursors were on them, those furthest behind, move forward,
/// counting what they missed of what they wanted; they are told before their next element. What every
/// cursor has passed is released. Elements are numbered from 0 in the order they came.
struct StreamBuffer<Element> {
    struct Entry {
        var element: Element
        /// What it counts against the bound, in bytes.
        var cost: Int
    }

    struct Cursor {
        /// The number of the next element to read.
        var next: Int
        /// Elements it wanted that were dropped before it read them.
        var missed = 0
        /// Whether the client wants an element (its filter).
        let wants: (Element) -> Bool
    }

    /// Bytes held at most (one element larger than this alone is held alone).
    let limit: Int
    private(set) var entries: [Entry] = []
    /// The oldest element held is `entries[head]`, number `first`.
    private var head = 0
    private(set) var first = 0
    /// The cost of the elements held.
    private(set) var bytes = 0
    private(set) var cursors: [UInt64: Cursor] = [:]

    init(limit: Int) { self.limit = limit }

    /// Elements held.
    var count: Int { entries.count - head }
    /// The number the next element will get.
    var end: Int { first + count }

    /// A client starts reading at the next element.
    mutating func join(_ id: UInt64, wants: @escaping (Element) -> Bool) {
        cursors[id] = Cursor(next: end, wants: wants)
    }

    /// A client is gone; with the last one, the buffer is emptied and its memory given back.
    mutating func leave(_ id: UInt64) {
        cursors[id] = nil
        if cursors.isEmpty {
            first = end
            entries = []
            head = 0
            bytes = 0
        }
    }

    /// Adds an element; when the bound is passed, the oldest go.
    mutating func append(_ element: Element, cost: Int) {
        if cursors.isEmpty { return }
        entries.append(Entry(element: element, cost: cost))
        bytes += cost
        if bytes > limit { trim(to: limit - limit / 4) }
    }

    /// Every client is told of `n` elements dropped before they came here.
    mutating func missedUpstream(_ n: Int) {
        for i in cursors.values.indices { cursors.values[i].missed += n }
    }

    /// Drops the oldest elements until at most `target` bytes are held (the newest stays).
    mutating func trim(to target: Int) {
        var held = bytes
        var i = head
        while held > target && i < entries.count - 1 {
            held -= entries[i].cost
            i += 1
        }
        drop(upTo: first + (i - head))
    }

    /// Gives back what every cursor has passed (nobody misses it).
    mutating func release() {
        drop(upTo: cursors.values.lazy.map(\.next).min() ?? end)
    }

    /// Drops the elements numbered below `n`; cursors on them move to `n`, counting those they wanted.
    private mutating func drop(upTo n: Int) {
        guard n > first else { return }
        for i in cursors.values.indices where cursors.values[i].next < n {
            let wants = cursors.values[i].wants
            var missed = 0
            for k in (cursors.values[i].next - first + head)..<(n - first + head) where wants(entries[k].element) { missed += 1 }
            cursors.values[i].missed += missed
            cursors.values[i].next = n
        }
        let stop = head + (n - first)
        for k in head..<stop { bytes -= entries[k].cost }
        head = stop
        first = n
        if head == entries.count {
            // Nothing held: a large array is given back.
            entries.removeAll(keepingCapacity: entries.capacity <= 4096)
            head = 0
        } else if head > 1024 && head * 2 > entries.count {
            entries.removeFirst(head)
            head = 0
        }
    }

    /// What client `id` reads next: `missed` with the count of what it missed (when it did), then `take`
    /// with each element it wants, in order, until their cost reaches `budget` or none is left. True when
    /// elements remain for it to read.
    mutating func read(_ id: UInt64, budget: Int, missed: (Int) -> Void, _ take: (Element) -> Void) -> Bool {
        guard var cursor = cursors[id] else { return false }
        if cursor.missed > 0 {
            missed(cursor.missed)
            cursor.missed = 0
        }
        var spent = 0
        var k = cursor.next - first + head
        while k < entries.count && spent < budget {
            let entry = entries[k]
            if cursor.wants(entry.element) {
                take(entry.element)
                spent += entry.cost
            }
            k += 1
        }
        cursor.next = k - head + first
        cursors[id] = cursor
        return k < entries.count
    }

    /// Whether client `id` has something to read (elements, or a missed count).
    func hasNews(_ id: UInt64) -> Bool {
        guard let cursor = cursors[id] else { return false }
        return cursor.next < end || cursor.missed > 0
    }
}
