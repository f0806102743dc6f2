import JSON
import Pattern

/// What a route target says about joining a message's lines (gliderlabs/logspout's `multiline` adapter):
/// present when it has `multiline=true` or a `multiline.*` option; each setting it leaves out falls back to
/// emit-syslog's `MULTILINE_*` environment, then to the default (`MultilineSpec.init(_:environment:)`).
public struct MultilineOptions: Sendable, Hashable {
    public var pattern: String?
    public var match: MultilineSpec.Match?
    public var flushAfterMs: Int?
    public var separator: String?

    public init(pattern: String? = nil, match: MultilineSpec.Match? = nil, flushAfterMs: Int? = nil, separator: String? = nil) {
        self.pattern = pattern
        self.match = match
        self.flushAfterMs = flushAfterMs
        self.separator = separator
    }

    static let names = ["pattern", "match", "flush_after", "separator"]

    /// The multiline options among a target's members; nil unless `multiline` is true or a `multiline.*`
    /// option is given (the last of these decides). Each given value is checked.
    static func read(_ members: [TargetOptions.Member]) throws(TargetError) -> MultilineOptions? {
        var given: [String: String] = [:]
        var enabled = false
        for member in members {
            if member.name == "multiline" {
                guard let s = member.value.string ?? member.value.bool.map({ $0 ? "true" : "false" }), s == "true" || s == "false" else {
                    throw TargetError("multiline must be true or false")
                }
                enabled = s == "true"
            } else if member.name.hasPrefix("multiline.") {
                guard let s = member.value.string else { throw TargetError("\(member.name) must be a string") }
                given[String(member.name.dropFirst("multiline.".count))] = s
                enabled = true
            }
        }
        guard enabled else { return nil }
        for key in given.keys where !names.contains(key) {
            throw TargetError("unknown option multiline.\(key) (\(names.joined(separator: ", ")))")
        }
        var options = MultilineOptions(pattern: given["pattern"], separator: given["separator"])
        if let text = given["match"] { options.match = try MultilineSpec.match(text) }
        if let text = given["flush_after"] { options.flushAfterMs = try MultilineSpec.flushAfter(text) }
        if let pattern = options.pattern { try MultilineSpec.check(pattern: pattern) }
        return options
    }
}

/// How a route joins the lines of a message that spans several (a stack trace, an indented dump) into one
/// syslog message: its target's `MultilineOptions` with emit-syslog's `MULTILINE_*` defaults applied.
/// Two specs are the same when their settings are; `MultilineMatcher` holds the compiled pattern.
public struct MultilineSpec: Sendable, Hashable {
    /// Which lines `pattern` picks out.
    public enum Match: String, Sendable, CaseIterable {
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
    public var match: Match
    /// A message waiting this long for more lines is sent as it is.
    public var flushAfterMs: Int
    /// What goes between the joined lines.
    public var separator: String

    public static let defaultPattern = #"^\s"#
    /// The environment variables that give the defaults.
    public static let environment = ["MULTILINE_PATTERN", "MULTILINE_MATCH", "MULTILINE_FLUSH_AFTER", "MULTILINE_SEPARATOR"]

    public init(pattern: String = MultilineSpec.defaultPattern, match: Match = .nonfirst, flushAfterMs: Int = 500,
                separator: String = "\n") throws(TargetError) {
        try Self.check(pattern: pattern)
        self.pattern = pattern
        self.match = match
        self.flushAfterMs = flushAfterMs
        self.separator = separator
    }

    /// A target's options, each missing one from `MULTILINE_PATTERN`, `MULTILINE_MATCH`,
    /// `MULTILINE_FLUSH_AFTER` (ms) and `MULTILINE_SEPARATOR` in `environment` (empty counts as unset),
    /// then the defaults (`^\s`, nonfirst, 500, a newline).
    public init(_ options: MultilineOptions, environment: (String) -> String?) throws(TargetError) {
        func setting(_ variable: String) -> String? {
            guard let v = environment(variable), !v.isEmpty else { return nil }
            return v
        }
        var match = options.match ?? .nonfirst
        if options.match == nil, let text = setting("MULTILINE_MATCH") { match = try Self.match(text) }
        var flush = options.flushAfterMs ?? 500
        if options.flushAfterMs == nil, let text = setting("MULTILINE_FLUSH_AFTER") { flush = try Self.flushAfter(text) }
        try self.init(pattern: options.pattern ?? setting("MULTILINE_PATTERN") ?? Self.defaultPattern, match: match,
                      flushAfterMs: flush, separator: options.separator ?? setting("MULTILINE_SEPARATOR") ?? "\n")
    }

    static func match(_ text: String) throws(TargetError) -> Match {
        guard let match = Match(rawValue: text) else {
            throw TargetError("multiline match '\(text)' is not one of first, last, nonfirst, nonlast")
        }
        return match
    }

    static func flushAfter(_ text: String) throws(TargetError) -> Int {
        guard let ms = Int(text), (1...3_600_000).contains(ms) else {
            throw TargetError("multiline flush_after '\(text)' must be a whole number of milliseconds from 1 to 3600000")
        }
        return ms
    }

    static func check(pattern: String) throws(TargetError) {
        _ = try MultilineMatcher.compile(pattern)
    }
}

/// A `MultilineSpec` with its pattern compiled, for the joiner.
public struct MultilineMatcher: Sendable {
    public let spec: MultilineSpec
    let pattern: Pattern

    public init(_ spec: MultilineSpec) throws(TargetError) {
        self.spec = spec
        pattern = try Self.compile(spec.pattern)
    }

    /// The one place a multiline pattern is compiled (route checks with it, emit-syslog matches with it):
    /// Go's `regexp` syntax, matched in time linear in the line (`Pattern`).
    static func compile(_ pattern: String) throws(TargetError) -> Pattern {
        do { return try Pattern(pattern) } catch { throw TargetError("multiline pattern '\(pattern)': \(error)") }
    }

    public var match: MultilineSpec.Match { spec.match }
    public var flushAfterMs: Int { spec.flushAfterMs }
    public var separator: String { spec.separator }

    public func matches(_ line: String) -> Bool { pattern.matches(line) }
}
