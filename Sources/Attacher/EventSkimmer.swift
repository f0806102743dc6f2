import JSON

/// Reads the engine's events stream — one JSON object per line, of any size — keeping of each event only
/// what attach acts on: `Type`, `Action` (or the older `status`), `Actor.ID` (or `id`) and
/// `Actor.Attributes.name`. An event carries the container's labels in `Actor.Attributes`, so it can be
/// megabytes long; it is read through byte by byte and never held, so memory stays a few KiB whatever
/// its size.
struct EventSkimmer {
    /// A complete line of the stream: an event attach acts on, one it has nothing to do with, or an
    /// unreadable line (its first 200 bytes).
    enum Line: Equatable {
        case event(EngineEvent)
        case other
        case unreadable(String)
    }

    /// The fields kept, as written in the line (escapes not decoded yet).
    enum Field: Int, CaseIterable { case type, action, status, id, actorID, name }

    static let maxField = 4096
    static let maxKey = 16
    static let shownBytes = 200

    /// The lines completed so far, in order; `take` empties it.
    private(set) var lines: [Line] = []

    private var fields: [[UInt8]?] = Array(repeating: nil, count: Field.allCases.count)
    private var depth = 0
    /// Whether each of the first four levels is an object (the only levels whose keys matter).
    private var isObject: [Bool] = [false, false, false, false]
    /// The last key at levels 1 to 3 (`keys[0]` is unused), cut at `maxKey` + 1 bytes.
    private var keys: [[UInt8]] = [[], [], [], []]
    private var expectKey = false
    private var inString = false
    private var escaped = false
    private var stringIsKey = false
    private var capturing: Field?
    private var capture: [UInt8] = []
    private var key: [UInt8] = []
    private var started = false
    private var closed = false
    private var broken = false
    private var shown: [UInt8] = []

    /// Reads more of the stream.
    mutating func feed(_ bytes: some Sequence<UInt8>) {
        for b in bytes { step(b) }
    }

    /// The lines completed since the last call.
    mutating func take() -> [Line] {
        defer { lines.removeAll(keepingCapacity: true) }
        return lines
    }

    /// Whether a line is under way (bytes of it read, its end not yet).
    var isMidLine: Bool { !shown.isEmpty }

    private mutating func step(_ b: UInt8) {
        if b == 10 {
            endLine()
            return
        }
        if shown.count < Self.shownBytes { shown.append(b) }
        if broken { return }
        if inString {
            if escaped {
                escaped = false
            } else if b == 0x5C {
                escaped = true
            } else if b == 0x22 {
                inString = false
                endString()
                return
            }
            if stringIsKey {
                if key.count <= Self.maxKey { key.append(b) }
            } else if capturing != nil {
                if capture.count < Self.maxField { capture.append(b) } else { capturing = nil }
            }
            return
        }
        switch b {
        case 0x20, 0x09, 0x0D:
            return
        case 0x7B, 0x5B:  // { [
            if closed || (!started && b != 0x7B) { return fail() }
            started = true
            depth += 1
            if depth < isObject.count {
                isObject[depth] = b == 0x7B
                if depth < keys.count { keys[depth] = [] }
            }
            expectKey = b == 0x7B
        case 0x7D, 0x5D:  // } ]
            guard depth > 0 else { return fail() }
            depth -= 1
            expectKey = false
            if depth == 0 { closed = true }
        case 0x2C:  // ,
            guard depth > 0 else { return fail() }
            expectKey = depth < isObject.count && isObject[depth]
        case 0x3A:  // :
            expectKey = false
        case 0x22:
            guard depth > 0 else { return fail() }
            inString = true
            stringIsKey = expectKey && depth < isObject.count && isObject[depth]
            if stringIsKey { key.removeAll(keepingCapacity: true) } else { startValue() }
        default:
            if !started || closed { return fail() }
        }
    }

    private mutating func fail() { broken = true }

    /// A string value starts at `depth`, under `keys`: is it a field kept?
    private mutating func startValue() {
        capturing = nil
        guard depth < keys.count else { return }
        let k = keys[depth]
        switch depth {
        case 1:
            if k == Array("Type".utf8) { capturing = .type }
            else if k == Array("Action".utf8) { capturing = .action }
            else if k == Array("status".utf8) { capturing = .status }
            else if k == Array("id".utf8) { capturing = .id }
        case 2:
            if keys[1] == Array("Actor".utf8), k == Array("ID".utf8) { capturing = .actorID }
        case 3:
            if keys[1] == Array("Actor".utf8), keys[2] == Array("Attributes".utf8), k == Array("name".utf8) { capturing = .name }
        default:
            break
        }
        capture.removeAll(keepingCapacity: true)
    }

    private mutating func endString() {
        if stringIsKey {
            if depth < keys.count { keys[depth] = key }
            return
        }
        if let field = capturing { fields[field.rawValue] = capture }
        capturing = nil
    }

    private mutating func endLine() {
        defer { reset() }
        if !started && !broken && shown.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { return }
        guard !broken, closed, !inString else {
            lines.append(.unreadable(String(decoding: shown, as: UTF8.self)))
            return
        }
        func text(_ field: Field) -> String? {
            guard let raw = fields[field.rawValue] else { return nil }
            return (try? JSONValue.parse([0x22] + raw + [0x22]))?.string
        }
        let event = EngineEvent(type: text(.type), action: text(.action) ?? text(.status),
                                id: text(.actorID) ?? text(.id), name: text(.name))
        lines.append(event.map { .event($0) } ?? .other)
    }

    private mutating func reset() {
        for i in fields.indices { fields[i] = nil }
        depth = 0
        expectKey = false
        inString = false
        escaped = false
        capturing = nil
        started = false
        closed = false
        broken = false
        shown.removeAll(keepingCapacity: true)
    }
}
