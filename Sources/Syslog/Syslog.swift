import Records
import Syscall
import Time

/// Turns records into syslog messages: the bytes of one message each, without
/// transport framing or a trailing newline (see docs/syslog.md for the fields).
///
/// Keep one formatter and one output buffer and reuse them: the header
/// fields of a container (HOSTNAME, APP-NAME or TAG, PROCID, SD) are built
/// once and cached, keyed by the container's id, name, hostname and pid, the
/// route's append_tag and structured_data and the format, so a message costs
/// its timestamp and two copies. (Labels and image are fixed for an id.)
public struct SyslogFormatter: Sendable {
    public let options: SyslogOptions
    let clock: @Sendable () -> Timestamp
    /// This machine's host name, for `{{.Hostname}}`.
    let host: String
    let layout3164: GoTimeLayout
    let layoutDeis: GoTimeLayout

    /// The headers used last, checked first (no hashing).
    var recentKeys: [HeaderKey] = []
    var recentBytes: [[UInt8]] = []
    var nextRecent = 0
    /// Every header built, up to `tableLimit`; then it starts again.
    var table: [HeaderKey: [UInt8]] = [:]
    static let recentSlots = 8
    static let tableLimit = 4096

    /// The last RFC 5424 timestamp written (`2026-11-24T20:42:17.123456Z`,
    /// 27 bytes), whose date and time serve while the second is the same;
    /// `stamp5424Valid` is false when the year does not have four digits.
    var stamp5424: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    var stamp5424Second: Int64?
    var stamp5424Valid = false
    var stamp3164 = LayoutCache()
    var stampDeis = LayoutCache()
    var timeParser = TimeParser()

    /// `clock` gives the time written for records whose `time` is not RFC 3339.
    public init(options: SyslogOptions, clock: @escaping @Sendable () -> Timestamp = SyslogFormatter.currentTime) {
        self.options = options
        self.clock = clock
        self.host = ContainerTemplate.hostName()
        self.layout3164 = options.datetimeLayout ?? .stamp
        self.layoutDeis = options.datetimeLayout ?? .deisDefault
    }

    /// The wall-clock time (`CLOCK_REALTIME`).
    public static func currentTime() -> Timestamp {
        Timestamp.now(Sys.realtime)
    }

    /// Appends one message for `record` to `out`. `appendTag` is the route's
    /// append_tag (`""` when none), `structuredData` its structured_data (in
    /// place of `SYSLOG_STRUCTURED_DATA`). The timestamp is the record's
    /// `time`, or the clock's time when that is not RFC 3339.
    public mutating func append(_ record: Record, format: SyslogFormat, appendTag: String,
                                structuredData: ContainerTemplate? = nil, into out: inout [UInt8]) {
        let time = timestamp(of: record.time)
        appendHead(time: time, source: record.source, container: record.container, format: format, appendTag: appendTag,
                   structuredData: structuredData, into: &out)
        let done: Void? = record.data.utf8.withContiguousStorageIfAvailable { out.append(contentsOf: $0) }
        if done == nil { out.append(contentsOf: record.data.utf8) }
    }

    /// Appends one message from its parts: the same bytes as
    /// `append(_:format:appendTag:into:)` for a record with this time, source,
    /// data and container. `data` is the line's text, UTF-8.
    public mutating func append(
        time: Timestamp, source: Source, data: UnsafeRawBufferPointer, container: Container,
        format: SyslogFormat, appendTag: String, structuredData: ContainerTemplate? = nil, into out: inout [UInt8]
    ) {
        appendHead(time: time, source: source, container: container, format: format, appendTag: appendTag,
                   structuredData: structuredData, into: &out)
        out.append(contentsOf: data)
    }

    /// Appends one message for a record given as its parts: the same bytes as
    /// `append(_:format:appendTag:structuredData:into:)` for a record whose `time` is
    /// `timeText` (UTF-8), with this source, data and container.
    public mutating func append(
        timeText: UnsafeRawBufferPointer, source: Source, data: UnsafeRawBufferPointer, container: Container,
        format: SyslogFormat, appendTag: String, structuredData: ContainerTemplate? = nil, into out: inout [UInt8]
    ) {
        let time = timeParser.parse(timeText) ?? clock()
        appendHead(time: time, source: source, container: container, format: format, appendTag: appendTag,
                   structuredData: structuredData, into: &out)
        out.append(contentsOf: data)
    }

    /// Everything before MSG, with the space that ends it.
    @inline(__always)
    mutating func appendHead(
        time: Timestamp, source: Source, container: Container, format: SyslogFormat, appendTag: String,
        structuredData: ContainerTemplate?, into out: inout [UInt8]
    ) {
        switch format {
        case .rfc5424:
            // Facility user (1): 8 + 6 (info) for stdout, 8 + 3 (err) for stderr.
            Digits.append(source == .stderr ? "<11>1 " : "<14>1 ", to: &out)
            appendRFC5424Time(time, to: &out)
        case .rfc3164:
            Digits.append(source == .stderr ? "<11>" : "<14>", to: &out)
            stamp3164.append(time, layout: layout3164, to: &out)
        case .deis:
            stampDeis.append(time, layout: layoutDeis, to: &out)
        }
        appendHeader(container, appendTag: appendTag, structuredData: structuredData, format: format, to: &out)
    }

    /// The time of a record: its `time` parsed, or the clock's time when
    /// that is not RFC 3339.
    @inline(__always)
    mutating func timestamp(of text: String) -> Timestamp {
        let parsed: Timestamp?? = text.utf8.withContiguousStorageIfAvailable {
            timeParser.parse(UnsafeRawBufferPointer($0))
        }
        if let parsed { return parsed ?? clock() }
        return Timestamp(rfc3339: text) ?? clock()
    }

    // MARK: Timestamps

    /// RFC 5424's TIMESTAMP: `2026-11-24T20:42:17.123456Z`, six fraction
    /// digits (truncated), UTC; `-` (NILVALUE) for a year outside 0000–9999.
    mutating func appendRFC5424Time(_ t0: Timestamp, to out: inout [UInt8]) {
        let t = Civil.normalized(t0)
        if stamp5424Second != t.seconds {
            stamp5424Second = t.seconds
            let days = Civil.floorDiv(t.seconds, 86400)
            let secondOfDay = Int(t.seconds - days * 86400)
            let (y, m, d) = Timestamp.civil(fromDays: days)
            stamp5424Valid = y >= 0 && y <= 9999
            withUnsafeMutableBytes(of: &stamp5424) { b in
                func two(_ v: Int, at i: Int) {
                    b[i] = 0x30 &+ UInt8(truncatingIfNeeded: v / 10)
                    b[i + 1] = 0x30 &+ UInt8(truncatingIfNeeded: v % 10)
                }
                let year = Int(y)
                two(year / 100 % 100, at: 0)
                two(year % 100, at: 2)
                b[4] = 0x2D  // -
                two(Int(m), at: 5)
                b[7] = 0x2D
                two(Int(d), at: 8)
                b[10] = UInt8(ascii: "T")
                two(secondOfDay / 3600, at: 11)
                b[13] = 0x3A  // :
                two(secondOfDay / 60 % 60, at: 14)
                b[16] = 0x3A
                two(secondOfDay % 60, at: 17)
                b[19] = 0x2E  // .
                b[26] = UInt8(ascii: "Z")
            }
        }
        guard stamp5424Valid else {
            out.append(0x2D)  // NILVALUE
            return
        }
        let micro = Int(t.nanoseconds) / 1000
        withUnsafeMutableBytes(of: &stamp5424) { b in
            var v = micro
            for i in stride(from: 25, through: 20, by: -1) {
                b[i] = 0x30 &+ UInt8(truncatingIfNeeded: v % 10)
                v /= 10
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[0..<27]))
        }
    }

    /// A Go layout's output for the last second written, when it does not
    /// depend on the fraction of a second.
    struct LayoutCache: Sendable {
        var second: Int64?
        var bytes: [UInt8] = []

        @inline(__always)
        mutating func append(_ t: Timestamp, layout: GoTimeLayout, to out: inout [UInt8]) {
            if layout.usesFraction {
                layout.append(t, to: &out)
                return
            }
            let s = Civil.normalized(t).seconds
            if second != s {
                second = s
                bytes.removeAll(keepingCapacity: true)
                layout.append(t, to: &bytes)
            }
            out.append(contentsOf: bytes)
        }
    }

    // MARK: Header fields

    struct HeaderKey: Hashable, Sendable {
        var id: String
        var name: String
        var hostname: String
        var pid: Int
        var appendTag: String
        var structuredData: ContainerTemplate?
        var format: SyslogFormat
    }

    @inline(__always)
    mutating func appendHeader(
        _ c: borrowing Container, appendTag: String, structuredData: ContainerTemplate?, format: SyslogFormat,
        to out: inout [UInt8]
    ) {
        for i in 0..<recentKeys.count {
            if recentKeys[i].format == format && recentKeys[i].pid == c.pid && recentKeys[i].id == c.id
                && recentKeys[i].name == c.name && recentKeys[i].hostname == c.hostname
                && recentKeys[i].appendTag == appendTag && recentKeys[i].structuredData == structuredData
            {
                recentBytes[i].withUnsafeBufferPointer { out.append(contentsOf: $0) }
                return
            }
        }
        appendHeaderSlow(c, appendTag: appendTag, structuredData: structuredData, format: format, to: &out)
    }

    @inline(never)
    mutating func appendHeaderSlow(
        _ c: borrowing Container, appendTag: String, structuredData: ContainerTemplate?, format: SyslogFormat,
        to out: inout [UInt8]
    ) {
        let key = HeaderKey(id: c.id, name: c.name, hostname: c.hostname, pid: c.pid, appendTag: appendTag,
                            structuredData: structuredData, format: format)
        let bytes: [UInt8]
        if let found = table[key] {
            bytes = found
        } else {
            let container = copy c
            // SYSLOG_TAG replaces the name and the route's append_tag (as in logspout); deis keeps its own tag.
            var name = container.name
            var suffix = appendTag
            if format != .deis, let tag = options.tag {
                name = tag.render(container, host: host)
                suffix = ""
            }
            let sd = (structuredData ?? options.structuredData)?.render(container, host: host)
            bytes = SyslogFormatter.header(
                name: name, hostname: options.hostname?.render(container, host: host) ?? container.hostname,
                pid: container.pid, appendTag: suffix, format: format,
                structuredData: SyslogFormatter.structuredDataField(sd))
            if table.count >= SyslogFormatter.tableLimit { table.removeAll(keepingCapacity: true) }
            table[key] = bytes
        }
        if recentKeys.count < SyslogFormatter.recentSlots {
            recentKeys.append(key)
            recentBytes.append(bytes)
        } else {
            recentKeys[nextRecent] = key
            recentBytes[nextRecent] = bytes
            nextRecent = (nextRecent + 1) % SyslogFormatter.recentSlots
        }
        out.append(contentsOf: bytes)
    }

    /// The bytes between the timestamp and MSG, both spaces included.
    static func header(
        name: String, hostname: String, pid: Int, appendTag: String, format: SyslogFormat, structuredData: [UInt8]
    ) -> [UInt8] {
        var out: [UInt8] = [0x20]
        switch format {
        case .rfc5424:
            Field.append([hostname], syntax: .printable, max: Field.hostnameMax, to: &out)
            out.append(0x20)
            Field.append([name, appendTag], syntax: .printable, max: Field.appNameMax, to: &out)
            out.append(0x20)
            if pid == 0 {
                out.append(0x2D)
            } else {
                Field.append([String(pid)], syntax: .printable, max: Field.procIDMax, to: &out)
            }
            Digits.append(" - ", to: &out)
            out.append(contentsOf: structuredData)
            out.append(0x20)
        case .rfc3164:
            let start = out.count
            Field.append([hostname], syntax: .hostname3164, max: Field.hostnameMax, to: &out, nilValue: false)
            // rsyslog takes a word for the hostname only when it ends with a letter or digit.
            while out.count > start, !Field.isAlphanumeric(out[out.count - 1]) { out.removeLast() }
            if out.count > start { out.append(0x20) }
            Field.append([name, appendTag], syntax: .tag, max: Field.tag3164Max, to: &out)
            if pid != 0 {
                out.append(UInt8(ascii: "["))
                Digits.append(Int64(pid), width: 0, to: &out)
                out.append(UInt8(ascii: "]"))
            }
            Digits.append(": ", to: &out)
        case .deis:
            let (tag, process) = deisName(name)
            Field.append([tag, appendTag], syntax: .tag, max: Field.deisTagMax, to: &out)
            out.append(UInt8(ascii: "["))
            Field.append([process], syntax: .tag, max: Field.procIDMax, to: &out)
            Digits.append("]: ", to: &out)
        }
        return out
    }

    /// Deis's TAG and PROCID for a container name: `myapp_v2.web.1` (app `_v`
    /// version `.` process type `.` number) gives `myapp` and `web.1`, as
    /// Deis's `(^[a-z0-9-]+)_(v[0-9]+)\.([a-z-_]+\.[0-9]+)$`; any other name
    /// gives itself and `1`.
    public static func deisName(_ name: String) -> (tag: String, procID: String) {
        let b = Array(name.utf8)
        func isLower(_ c: UInt8) -> Bool { c >= 0x61 && c <= 0x7A }
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        var i = 0
        while i < b.count, isLower(b[i]) || isDigit(b[i]) || b[i] == 0x2D { i += 1 }
        let appEnd = i
        guard appEnd > 0, i < b.count, b[i] == 0x5F else { return (name, "1") }  // _
        i += 1
        guard i < b.count, b[i] == UInt8(ascii: "v") else { return (name, "1") }
        i += 1
        let versionStart = i
        while i < b.count, isDigit(b[i]) { i += 1 }
        guard i > versionStart, i < b.count, b[i] == 0x2E else { return (name, "1") }  // .
        i += 1
        let processStart = i
        while i < b.count, isLower(b[i]) || b[i] == 0x2D || b[i] == 0x5F { i += 1 }
        guard i > processStart, i < b.count, b[i] == 0x2E else { return (name, "1") }
        i += 1
        let numberStart = i
        while i < b.count, isDigit(b[i]) { i += 1 }
        guard i > numberStart, i == b.count else { return (name, "1") }
        return (String(decoding: b[..<appEnd], as: UTF8.self), String(decoding: b[processStart...], as: UTF8.self))
    }

    /// The SD field: `-` when absent or empty, the text as given when it is
    /// `[`…`]`, else the text inside `[` `]`.
    static func structuredDataField(_ sd: String?) -> [UInt8] {
        guard let sd, !sd.isEmpty else { return [0x2D] }
        let b = Array(sd.utf8)
        if b.first == UInt8(ascii: "["), b.last == UInt8(ascii: "]") { return b }
        return [UInt8(ascii: "[")] + b + [UInt8(ascii: "]")]
    }
}
