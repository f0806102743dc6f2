import JSON
import Records

/// How a live stream is written to its client.
public enum StreamMode: Sendable, Equatable {
    /// Plain text, one line per record: `ESC[<colour>m` + name right-aligned + `|` + data + `ESC[0m`.
    case text(colors: Bool)
    /// One compact JSON object per line (`Accept: application/json`).
    case json
    /// Server-Sent Events: `data: <json>` and a blank line per record (`Accept: text/event-stream`).
    case sse
    /// One WebSocket text frame of JSON per record.
    case websocket
}

/// The JSON object a stream client gets for a record, in the seed lineage's shape:
/// `{"id":…,"name":…,"type":"stdout"|"stderr","data":…,"time":…}`.
public func appendStreamJSON(_ r: Record, to out: inout [UInt8]) {
    out.append(contentsOf: #"{"id":"#.utf8)
    JSONString.append(r.container.id, to: &out)
    out.append(contentsOf: #","name":"#.utf8)
    JSONString.append(r.container.name, to: &out)
    out.append(contentsOf: r.source == .stderr ? #","type":"stderr","data":"#.utf8 : #","type":"stdout","data":"#.utf8)
    JSONString.append(r.data, to: &out)
    out.append(contentsOf: #","time":"#.utf8)
    JSONString.append(r.time, to: &out)
    out.append(UInt8(ascii: "}"))
}

/// The plain-text layout of logspout's `/logs`, per connection: each container gets the next colour of
/// the cycle at its first line, and the name column widens (for the rest of the connection) when a
/// longer name appears.
public struct TextLayout: Sendable {
    public static let colors = ["1;37", "1;36", "1;35", "1;34", "1;33", "1;32", "1;31", "37", "36", "35", "34", "33", "32", "31"]
    public let useColors: Bool
    /// A single-container stream (`/logs/id:…`, `/logs/name:…`) sends the bare line.
    public let bare: Bool
    public private(set) var width = 16
    var assigned: [String: Int] = [:]

    public init(colors: Bool, bare: Bool) {
        useColors = colors
        self.bare = bare
    }

    /// Appends the line for `r`.
    public mutating func append(_ r: Record, to out: inout [UInt8]) {
        if bare {
            out.append(contentsOf: r.data.utf8)
            out.append(10)
            return
        }
        let name = r.container.name
        let count = name.count
        if count > width { width = count }
        if useColors {
            let index: Int
            if let i = assigned[r.container.id] {
                index = i
            } else {
                index = assigned.count % Self.colors.count
                assigned[r.container.id] = index
            }
            out.append(contentsOf: "\u{1B}[\(Self.colors[index])m".utf8)
        }
        if count < width { out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: width - count)) }
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: "|"))
        out.append(contentsOf: r.data.utf8)
        if useColors { out.append(contentsOf: "\u{1B}[0m".utf8) }
        out.append(10)
    }

    /// The notice of records dropped because the client read too slowly.
    public static func missedLine(_ n: Int) -> String {
        "logspout: \(n) line\(n == 1 ? "" : "s") skipped: this client reads more slowly than the logs arrive\n"
    }
}
