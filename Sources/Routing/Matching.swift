import Records

// Which records a route takes. These run once per container (and per route table), not per record:
// `RecordRouter` caches the outcome for each container.

extension RouteSource {
    /// Whether a container with this id, name and labels is taken (the stream aside: see `accepts`).
    /// `id`: a prefix of the container id. `name`: the name exactly. `glob`: a glob on the whole name.
    /// `filter`: a substring of the name. `labels`: every one present (with the value, when given).
    public func matches(id containerID: String, name containerName: String, labels containerLabels: Labels) -> Bool {
        if let id, !containerID.utf8.starts(with: id.utf8) { return false }
        if let name, containerName != name { return false }
        if let glob, !Glob.matches(glob, containerName) { return false }
        if let filter, !Self.contains(containerName, filter) { return false }
        for label in labels {
            guard let found = containerLabels[label.key] else { return false }
            if let value = label.value, found != value { return false }
        }
        return true
    }

    /// Whether records of `source` (stdout or stderr) are taken.
    public func accepts(_ source: Source) -> Bool {
        types.isEmpty || types.contains(source)
    }

    /// Whether `text` contains `part` (compared as UTF-8 bytes, which for valid UTF-8 is the same as
    /// comparing characters without normalization).
    static func contains(_ text: String, _ part: String) -> Bool {
        let t = Array(text.utf8)
        let p = Array(part.utf8)
        if p.isEmpty { return true }
        if p.count > t.count { return false }
        var i = 0
        while i + p.count <= t.count {
            if t[i] == p[0] && t[i..<i + p.count].elementsEqual(p) { return true }
            i += 1
        }
        return false
    }
}

extension RouteSpec {
    /// Whether the route takes `record`.
    public func matches(_ record: Record) -> Bool {
        source.accepts(record.source)
            && source.matches(id: record.container.id, name: record.container.name, labels: record.container.labels)
    }
}

/// Shell-style globs on whole strings, as gliderlabs/logspout's `filter.name` (Go's `path.Match`):
/// `*` any run of characters, `?` one character, `[abc]`, `[a-z]`, `[!a-z]` or `[^a-z]` one character
/// of (or not of) a set, `\x` the character x itself.
public enum Glob {
    /// Whether `text` has a `*` or `?`: the sign that a `filter.name` is a glob, not a name.
    public static func isPattern(_ text: String) -> Bool {
        text.contains("*") || text.contains("?")
    }

    /// Whether `pattern` matches the whole of `text`. A malformed pattern (an unclosed `[`) matches
    /// nothing.
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.unicodeScalars)
        let t = Array(text.unicodeScalars)
        // Iterative matching with backtracking to the last `*`: linear in practice, never exponential.
        var pi = 0, ti = 0
        var starP = -1, starT = 0
        while ti < t.count {
            if pi < p.count {
                switch p[pi] {
                case "*":
                    starP = pi
                    starT = ti
                    pi += 1
                    continue
                case "?":
                    pi += 1
                    ti += 1
                    continue
                case "[":
                    if let (matched, next) = matchClass(p, pi, t[ti]) {
                        if matched {
                            pi = next
                            ti += 1
                            continue
                        }
                    } else {
                        return false
                    }
                case "\\" where pi + 1 < p.count:
                    if p[pi + 1] == t[ti] {
                        pi += 2
                        ti += 1
                        continue
                    }
                default:
                    if p[pi] == t[ti] {
                        pi += 1
                        ti += 1
                        continue
                    }
                }
            }
            // Mismatch: let the last `*` take one more character, or fail.
            guard starP >= 0 else { return false }
            starT += 1
            ti = starT
            pi = starP + 1
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// Matches `c` against the class starting at `p[start]` (a `[`): whether it matched and the index
    /// after the class; nil for an unclosed class.
    static func matchClass(_ p: [Unicode.Scalar], _ start: Int, _ c: Unicode.Scalar) -> (Bool, Int)? {
        var i = start + 1
        var negated = false
        if i < p.count && (p[i] == "!" || p[i] == "^") {
            negated = true
            i += 1
        }
        var matched = false
        var first = true
        while i < p.count {
            if p[i] == "]" && !first { return (matched != negated, i + 1) }
            first = false
            var lo = p[i]
            if lo == "\\" && i + 1 < p.count {
                i += 1
                lo = p[i]
            }
            i += 1
            var hi = lo
            if i + 1 < p.count && p[i] == "-" && p[i + 1] != "]" {
                hi = p[i + 1]
                if hi == "\\" && i + 2 < p.count {
                    hi = p[i + 2]
                    i += 1
                }
                i += 2
            }
            if lo.value <= c.value && c.value <= hi.value { matched = true }
        }
        return nil
    }
}
