import Records
import Syscall

/// A setting written in the part of Go's template language that gliderlabs/logspout's syslog settings use
/// (`SYSLOG_HOSTNAME`, `SYSLOG_TAG`, `SYSLOG_STRUCTURED_DATA`, a route's `structured_data`), so their
/// values carry over as they are. Text outside `{{ }}` is kept; an action names a field of the container:
///
///     {{.ContainerName}}                      the name (no leading /)
///     {{.Container.Name}}                     the name as Docker gives it (with the leading /)
///     {{.Container.ID}}                       the full id
///     {{.Container.Config.Hostname}}          the container's hostname
///     {{.Container.Config.Image}}             the image
///     {{.Container.State.Pid}}                the main process id
///     {{.Container.Config.Labels.KEY}}        a label (KEY a Go identifier)
///     {{index .Container.Config.Labels "k"}}  a label (any key; "" when absent)
///     {{.Hostname}}                           the host name of the machine logspout runs on
///
/// `{{-` and `-}}` trim the white space before and after, as in Go. What a message's own line holds
/// (`.Data`, `.Source`, `.Time`) has no place in these fields, and any other action is refused at start
/// with a message, rather than sent as literal braces.
public struct ContainerTemplate: Sendable, Hashable, CustomStringConvertible {
    enum Field: Sendable, Hashable {
        case containerName, dockerName, id, hostname, image, pid, label(String), hostHostname
    }

    enum Part: Sendable, Hashable {
        case text(String)
        case field(Field)
    }

    let parts: [Part]
    public let description: String

    // The parts follow from the text: equal texts give equal parts (synthesized equality compares both).

    /// Whether it has no action: the text is the value.
    public var isPlain: Bool { parts.allSatisfy { if case .text = $0 { true } else { false } } }

    public init(_ text: String) throws(TemplateError) {
        description = text
        var parts: [Part] = []
        var literal: [UInt8] = []
        let b = Array(text.utf8)
        var i = 0
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }
        while i < b.count {
            guard b[i] == UInt8(ascii: "{"), i + 1 < b.count, b[i + 1] == UInt8(ascii: "{") else {
                literal.append(b[i])
                i += 1
                continue
            }
            var start = i + 2
            if start + 1 < b.count, b[start] == UInt8(ascii: "-"), isSpace(b[start + 1]) {
                while let last = literal.last, isSpace(last) { literal.removeLast() }
                start += 2
            }
            guard let close = Self.find(b, "}}", from: start) else {
                throw TemplateError("'\(text)': an action '{{' without its '}}'")
            }
            var end = close
            var trimAfter = false
            if end >= start + 2, b[end - 1] == UInt8(ascii: "-"), isSpace(b[end - 2]) {
                trimAfter = true
                end -= 2
            }
            let action = String(decoding: b[start..<max(start, end)], as: UTF8.self)
            if !literal.isEmpty { parts.append(.text(String(decoding: literal, as: UTF8.self))) }
            literal.removeAll()
            parts.append(.field(try Self.field(action, in: text)))
            i = close + 2
            if trimAfter { while i < b.count, isSpace(b[i]) { i += 1 } }
        }
        if !literal.isEmpty { parts.append(.text(String(decoding: literal, as: UTF8.self))) }
        self.parts = parts
    }

    /// The value for container `c`; `host` is what `{{.Hostname}}` gives.
    public func render(_ c: Container, host: String) -> String {
        var out = ""
        for part in parts {
            switch part {
            case .text(let t): out += t
            case .field(let f):
                switch f {
                case .containerName: out += c.name
                case .dockerName: out += "/" + c.name
                case .id: out += c.id
                case .hostname: out += c.hostname
                case .image: out += c.image
                case .pid: out += String(c.pid)
                case .label(let key): out += c.labels[key] ?? ""
                case .hostHostname: out += host
                }
            }
        }
        return out
    }

    static func find(_ b: [UInt8], _ s: String, from: Int) -> Int? {
        let n = Array(s.utf8)
        var i = from
        while i + n.count <= b.count {
            if b[i..<(i + n.count)].elementsEqual(n) { return i }
            i += 1
        }
        return nil
    }

    static let fields: [String: Field] = [
        ".ContainerName": .containerName, ".Container.Name": .dockerName, ".Container.ID": .id,
        ".Container.Config.Hostname": .hostname, ".Container.Config.Image": .image, ".Container.State.Pid": .pid,
        ".Hostname": .hostHostname,
    ]

    static func field(_ action: String, in text: String) throws(TemplateError) -> Field {
        let words = action.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
        if words.count == 1 {
            let path = String(words[0])
            if let f = fields[path] { return f }
            let labels = ".Container.Config.Labels."
            if path.hasPrefix(labels) {
                let key = path.dropFirst(labels.count)
                if let first = key.first, first.isLetter || first == "_",
                   key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                    return .label(String(key))
                }
            }
        } else if words.count >= 3, words[0] == "index", words[1] == ".Container.Config.Labels" {
            // The key: a Go string, "…" with backslash escapes or `…` raw, possibly holding spaces.
            let after = action[action.firstRange(of: ".Container.Config.Labels")!.upperBound...].drop { $0 == " " || $0 == "\t" }
            if let key = Self.goString(String(after)) { return .label(key) }
        }
        throw TemplateError("'\(text)': {{\(action)}} is not supported here (container fields only: "
            + "{{.ContainerName}}, {{.Container.Name}}, {{.Container.ID}}, {{.Container.Config.Hostname}}, "
            + "{{.Container.Config.Image}}, {{.Container.State.Pid}}, {{.Hostname}}, "
            + "{{index .Container.Config.Labels \"key\"}})")
    }

    /// A Go string literal making up all of `s` (trailing white space aside), or nil.
    static func goString(_ s: String) -> String? {
        var chars = Array(s)
        while let last = chars.last, last == " " || last == "\t" { chars.removeLast() }
        guard chars.count >= 2, let q = chars.first, q == chars.last, q == "\"" || q == "`" else { return nil }
        let inner = chars[1..<(chars.count - 1)]
        if q == "`" { return inner.contains("`") ? nil : String(inner) }
        var out = ""
        var escaped = false
        for c in inner {
            if escaped {
                switch c {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "\\", "\"": out.append(c)
                default: return nil
                }
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "\"" {
                return nil
            } else {
                out.append(c)
            }
        }
        return escaped ? nil : out
    }

    /// This machine's host name (`{{.Hostname}}`).
    public static func hostName() -> String { Sys.hostname() }
}

/// A setting that is not a template this program can evaluate, in one sentence.
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
