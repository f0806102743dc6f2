import JSON

/// How a route joins the lines of a message that spans several (a stack trace, an indented dump) into one
/// syslog message, as gliderlabs/logspout's `multiline` adapter does. From the route target's
/// `multiline.*` options, or the `MULTILINE_*` environment for routes that ask for it (`multiline=true`).
public struct MultilineSpec: @unchecked Sendable, Equatable {
    /// Which lines `pattern` picks out.
    public enum Match: String, Sendable {
        /// The pattern matches every line of a message but its first (continuations: `^\s`).
        case nonfirst
        /// The pattern matches the first line of a message (a timestamp at the start of a line).
        case first
        /// The pattern matches the last line of a message.
        case last
        /// The pattern matches every line of a message but its last (a trailing `\`).
        case nonlast
    }

    public var pattern: String
    /// `Regex` is not `Sendable`; a spec is made and used by one thread (emit-syslog's loop).
    let regex: Regex<AnyRegexOutput>
    public var match: Match
    /// A message waiting this long for more lines is sent as it is.
    public var flushAfterMs: Int
    /// What goes between the joined lines.
    public var separator: String

    public static let defaultPattern = #"^\s"#

    public init(pattern: String = MultilineSpec.defaultPattern, match: Match = .nonfirst, flushAfterMs: Int = 500,
                separator: String = "\n") throws(MultilineError) {
        do { regex = try Regex(pattern) } catch { throw MultilineError("multiline pattern '\(pattern)' is not a regular expression") }
        self.pattern = pattern
        self.match = match
        self.flushAfterMs = flushAfterMs
        self.separator = separator
    }

    public static func == (a: MultilineSpec, b: MultilineSpec) -> Bool {
        a.pattern == b.pattern && a.match == b.match && a.flushAfterMs == b.flushAfterMs && a.separator == b.separator
    }

    /// The spec of a route target: nil unless it has `multiline=true` or a `multiline.*` option. Each
    /// option falls back to `MULTILINE_PATTERN`, `MULTILINE_MATCH`, `MULTILINE_FLUSH_AFTER` (ms) and
    /// `MULTILINE_SEPARATOR` from `env`, then to the defaults (`^\s`, nonfirst, 500, a newline).
    public static func of(target: JSONValue, env: (String) -> String?) throws(MultilineError) -> MultilineSpec? {
        guard case .object(let members) = target else { return nil }
        var options: [String: String] = [:]
        var enabled = false
        for (key, value) in members {
            if key == "multiline" {
                guard let s = value.string ?? value.bool.map({ $0 ? "true" : "false" }), s == "true" || s == "false" else {
                    throw MultilineError("multiline must be true or false")
                }
                enabled = s == "true"
            } else if key.hasPrefix("multiline.") {
                guard let s = value.string else { throw MultilineError("\(key) must be a string") }
                options[String(key.dropFirst("multiline.".count))] = s
                enabled = true
            }
        }
        guard enabled else { return nil }
        for key in options.keys where !["pattern", "match", "flush_after", "separator"].contains(key) {
            throw MultilineError("unknown option multiline.\(key) (pattern, match, flush_after, separator)")
        }
        func setting(_ key: String, _ variable: String) -> String? {
            if let v = options[key] { return v }
            if let v = env(variable), !v.isEmpty { return v }
            return nil
        }
        let matchText = setting("match", "MULTILINE_MATCH") ?? "nonfirst"
        guard let match = Match(rawValue: matchText) else {
            throw MultilineError("multiline match '\(matchText)' is not one of first, last, nonfirst, nonlast")
        }
        var flush = 500
        if let text = setting("flush_after", "MULTILINE_FLUSH_AFTER") {
            guard let ms = Int(text), (1...3_600_000).contains(ms) else {
                throw MultilineError("multiline flush_after '\(text)' must be a whole number of milliseconds from 1 to 3600000")
            }
            flush = ms
        }
        return try MultilineSpec(pattern: setting("pattern", "MULTILINE_PATTERN") ?? defaultPattern, match: match,
                                 flushAfterMs: flush, separator: setting("separator", "MULTILINE_SEPARATOR") ?? "\n")
    }

    public func matches(_ line: String) -> Bool { (try? regex.firstMatch(in: line)) != nil }
}

/// A route's multiline settings that cannot work, in one sentence.
public struct MultilineError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
