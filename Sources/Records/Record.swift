import JSON

/// The stream a log line came from.
public enum Source: UInt8, Sendable {
    case stdout
    case stderr

    /// `"stdout"` or `"stderr"`, as written in records.
    public var name: String {
        switch self {
        case .stdout: "stdout"
        case .stderr: "stderr"
        }
    }

    /// The source named `name`, if it is `"stdout"` or `"stderr"`.
    public init?(name: String) {
        switch name {
        case "stdout": self = .stdout
        case "stderr": self = .stderr
        default: return nil
        }
    }
}

/// The container a log line came from.
public struct Container: Sendable, Equatable {
    /// The full 64-hex-digit container id.
    public var id: String
    /// The name without Docker's leading `/`.
    public var name: String
    public var image: String
    public var hostname: String
    /// The main process id on the host; 0 when unknown.
    public var pid: Int
    /// The container's labels, in the order given.
    public var labels: Labels

    @inline(__always)
    public init(
        id: String, name: String = "", image: String = "", hostname: String = "",
        pid: Int = 0, labels: Labels = [:]
    ) {
        self.id = id
        self.name = name
        self.image = image
        self.hostname = hostname
        self.pid = pid
        self.labels = labels
    }

    /// The value of the first label named `key`.
    public func label(_ key: String) -> String? {
        labels[key]
    }

    /// The encoded `{"id":…,…}` object, computed once per container by writers
    /// so each record only copies it. All fields are written, in the order
    /// id, name, image, hostname, pid, labels.
    public func encodedJSON() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + name.utf8.count + image.utf8.count + hostname.utf8.count)
        appendJSON(to: &out)
        return out
    }

    /// Appends the encoded object (as `encodedJSON()` returns it) to `out`.
    public func appendJSON(to out: inout [UInt8]) {
        Bytes.append(#"{"id":"#, to: &out)
        JSONString.append(id, to: &out)
        Bytes.append(#","name":"#, to: &out)
        JSONString.append(name, to: &out)
        Bytes.append(#","image":"#, to: &out)
        JSONString.append(image, to: &out)
        Bytes.append(#","hostname":"#, to: &out)
        JSONString.append(hostname, to: &out)
        Bytes.append(#","pid":"#, to: &out)
        Bytes.append(pid, to: &out)
        Bytes.append(#","labels":{"#, to: &out)
        var first = true
        for label in labels {
            if !first { out.append(0x2C) }
            first = false
            JSONString.append(label.key, to: &out)
            out.append(0x3A)
            JSONString.append(label.value, to: &out)
        }
        Bytes.append("}}", to: &out)
    }
}

/// Where the route stage sent a record: the route's id and its target, whose
/// content the route stage defines.
public struct Route: Sendable, Equatable {
    public var id: String
    public var target: JSONValue

    public init(id: String, target: JSONValue) {
        self.id = id
        self.target = target
    }
}

/// One log line with its context: the unit every stage reads and writes, one
/// JSON object per line (see docs/records.md).
public struct Record: Sendable, Equatable {
    /// RFC 3339 UTC time with nanoseconds, as Docker stamps it.
    public var time: String
    public var source: Source
    /// The line's text without its newline; ill-formed UTF-8 was replaced with U+FFFD.
    public var data: String
    /// True when `data` is a piece of a longer line that was cut (Docker cuts
    /// lines at 16 KiB); the following records of the same container and
    /// source carry the rest, and the last piece has `partial` false.
    public var partial: Bool
    public var container: Container
    /// Where the route stage sent the record; nil before routing.
    public var route: Route? {
        get { routeStorage.first }
        set { routeStorage = newValue.map { [$0] } ?? [] }
    }
    /// `route` as zero or one element. A stored `Route?` would do, but with
    /// it the optimizer copies and destroys the whole record each time one is
    /// built (Swift 6.3), which costs the decoder about a tenth of its time.
    private var routeStorage: [Route]

    @inline(__always)
    public init(
        time: String, source: Source, data: String, partial: Bool = false,
        container: Container, route: Route? = nil
    ) {
        self.time = time
        self.source = source
        self.data = data
        self.partial = partial
        self.container = container
        self.routeStorage = route.map { [$0] } ?? []
    }
}

/// Small helpers for appending bytes.
enum Bytes {
    /// Makes room for `extra` more bytes, growing geometrically (a plain
    /// `reserveCapacity` per append would reallocate every time).
    @inline(__always)
    static func reserve(_ extra: Int, in out: inout [UInt8]) {
        let need = out.count &+ extra
        if need > out.capacity {
            out.reserveCapacity(Swift.max(need, out.capacity &* 2))
        }
    }

    @inline(__always)
    static func append(_ s: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// Appends the decimal digits of `v`.
    static func append(_ v: Int, to out: inout [UInt8]) {
        if v < 0 { out.append(0x2D) }
        var m = v.magnitude
        if m < 10 {
            out.append(0x30 &+ UInt8(truncatingIfNeeded: m))
            return
        }
        // Up to 20 digits, written backwards into 24 bytes on the stack.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            while m > 0 {
                buf[23 - count] = 0x30 &+ UInt8(truncatingIfNeeded: m % 10)
                m /= 10
                count += 1
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[(24 - count)...]))
        }
    }
}
