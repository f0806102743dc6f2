// The parser of Go's `regexp` syntax (RE2's, as `regexp.Compile` takes it: Perl classes, Unicode classes,
// non-greedy operators, flags), into a tree. What RE2 refuses is refused with a message naming it.

/// An empty-width assertion.
enum Assertion: UInt32 {
    case beginLine = 1       // ^ with (?m)
    case endLine = 2         // $ with (?m)
    case beginText = 4       // \A, ^
    case endText = 8         // \z, $
    case wordBoundary = 16   // \b
    case notWordBoundary = 32 // \B
}

/// The parsed pattern. Submatches and greediness do not change whether a text matches, so the tree keeps
/// neither.
indirect enum Node {
    case empty
    case char(UInt32)
    case set(Ranges)
    /// `.`: any character, or any but a newline.
    case any(newline: Bool)
    case assertion(Assertion)
    case concat([Node])
    case alternate([Node])
    /// `max` nil: unbounded.
    case repetition(Node, min: Int, max: Int?)
}

struct Parser {
    struct Flags {
        var foldCase = false
        var multiLine = false
        var dotNewline = false
        var ungreedy = false
    }

    let source: String
    let s: [Unicode.Scalar]
    var i = 0
    var flags = Flags()
    var depth = 0
    var names: Set<String> = []

    init(_ source: String) {
        self.source = source
        s = Array(source.unicodeScalars)
    }

    mutating func parse() throws(PatternError) -> Node {
        let tree = try alternation()
        if i < s.count { throw PatternError(.syntax, "unexpected ) at offset \(offset)") }
        return tree
    }

    /// The UTF-8 offset of the current position, for messages.
    var offset: Int { s[0..<i].reduce(0) { $0 + UTF8.width($1) } }

    var peek: Unicode.Scalar? { i < s.count ? s[i] : nil }

    func peek(_ ahead: Int) -> Unicode.Scalar? { i + ahead < s.count ? s[i + ahead] : nil }

    func looking(at text: String) -> Bool {
        var j = i
        for c in text.unicodeScalars {
            guard j < s.count, s[j] == c else { return false }
            j += 1
        }
        return true
    }

    /// The text from `from` to the current position.
    func text(from: Int) -> String {
        var out = ""
        out.unicodeScalars.append(contentsOf: s[from..<i])
        return out
    }

    mutating func enter() throws(PatternError) {
        depth += 1
        if depth > Pattern.maxNesting {
            throw PatternError(.tooLarge, "groups nested more than \(Pattern.maxNesting) deep")
        }
    }

    // MARK: Structure

    mutating func alternation() throws(PatternError) -> Node {
        var branches = [try concatenation()]
        while peek == "|" {
            i += 1
            branches.append(try concatenation())
        }
        return branches.count == 1 ? branches[0] : .alternate(branches)
    }

    mutating func concatenation() throws(PatternError) -> Node {
        var items: [Node] = []
        // Whether the last item was made by a repetition operator (`a**` is refused, as in Go).
        var repeated = false
        while let c = peek, c != "|", c != ")" {
            let start = i
            switch c {
            case "*", "+", "?":
                i += 1
                let (min, max): (Int, Int?) = c == "*" ? (0, nil) : c == "+" ? (1, nil) : (0, 1)
                try applyRepetition(&items, &repeated, min: min, max: max, from: start)
                continue
            case "{":
                if let (min, max) = try repetitionCount() {
                    try applyRepetition(&items, &repeated, min: min, max: max, from: start)
                    continue
                }
                i += 1
                items.append(literal(c.value))
            case "(":
                if let node = try group() { items.append(node) } else { repeated = false; continue }
            case "[":
                items.append(.set(try bracketClass()))
            case "^":
                i += 1
                items.append(.assertion(flags.multiLine ? .beginLine : .beginText))
            case "$":
                i += 1
                items.append(.assertion(flags.multiLine ? .endLine : .endText))
            case ".":
                i += 1
                items.append(.any(newline: flags.dotNewline))
            case "\\":
                items.append(contentsOf: try escape())
            default:
                i += 1
                items.append(literal(c.value))
            }
            repeated = false
        }
        switch items.count {
        case 0: return .empty
        case 1: return items[0]
        default: return .concat(items)
        }
    }

    /// Applies the repetition operator read from `from` (with its `?` for non-greedy) to the last item.
    mutating func applyRepetition(_ items: inout [Node], _ repeated: inout Bool, min: Int, max: Int?, from: Int) throws(PatternError) {
        if peek == "?" { i += 1 }
        let op = text(from: from)
        if repeated {
            throw PatternError(.syntax, "invalid nested repetition operator \(op)")
        }
        if let next = peek, next == "+" || next == "*" || next == "?" || (next == "{" && isRepetitionCount()) {
            if next == "+" && !op.hasSuffix("?") {
                throw PatternError(.unsupported, "possessive quantifier \(op)+ is not supported")
            }
            i += 1
            throw PatternError(.syntax, "invalid nested repetition operator \(op)\(next)")
        }
        guard let last = items.popLast() else {
            throw PatternError(.syntax, "missing argument to repetition operator \(op)")
        }
        items.append(.repetition(last, min: min, max: max))
        repeated = true
    }

    /// Whether `{` here starts a well-formed count (`{n}`, `{n,}`, `{n,m}`); otherwise it is a literal.
    func isRepetitionCount() -> Bool {
        var copy = self
        do { return try copy.repetitionCount() != nil } catch { return true }
    }

    /// Reads `{n}`, `{n,}` or `{n,m}`, or reads nothing and gives nil when `{` does not start one.
    mutating func repetitionCount() throws(PatternError) -> (Int, Int?)? {
        let start = i
        var j = i + 1
        func number(_ j: inout Int) -> Int? {
            let from = j
            var value = 0
            while j < s.count, ("0"..."9").contains(s[j]) {
                if value <= 1_000_000 { value = value * 10 + Int(s[j].value - 0x30) }
                j += 1
            }
            return j == from ? nil : value
        }
        guard let min = number(&j) else { return nil }
        var max: Int? = min
        if j < s.count, s[j] == "," {
            j += 1
            max = number(&j)
        }
        guard j < s.count, s[j] == "}" else { return nil }
        i = j + 1
        let written = text(from: start)
        if min > Pattern.maxRepeat || (max ?? 0) > Pattern.maxRepeat {
            throw PatternError(.tooLarge, "repetition count in \(written) is over \(Pattern.maxRepeat)")
        }
        if let max, max < min { throw PatternError(.syntax, "invalid repeat count \(written)") }
        return (min, max)
    }

    /// A group: `(re)`, `(?:re)`, `(?P<name>re)`, `(?<name>re)`, `(?flags:re)`; nil for `(?flags)`, which
    /// sets flags until the end of the enclosing group.
    mutating func group() throws(PatternError) -> Node? {
        let start = i
        i += 1
        let saved = flags
        if peek == "?" {
            for (opening, what) in [("(?=", "lookahead"), ("(?!", "negative lookahead"), ("(?<=", "lookbehind"),
                                    ("(?<!", "negative lookbehind"), ("(?>", "atomic group"), ("(?P=", "backreference"),
                                    ("(?P>", "recursion"), ("(?R", "recursion"), ("(?&", "recursion"),
                                    ("(?(", "conditional"), ("(?|", "branch reset"), ("(?#", "comment")] {
                i = start
                if looking(at: opening) { throw PatternError(.unsupported, "\(what) \(opening) is not supported") }
            }
            i = start + 2
            if looking(at: "P<") || (peek == "<") {
                i += peek == "P" ? 2 : 1
                let nameStart = i
                while let c = peek, c != ">" {
                    guard c.properties.numericType == .decimal && c.isASCII || c == "_" || (c.isASCII && c.properties.isAlphabetic) else {
                        throw PatternError(.syntax, "invalid capture group name in \(text(from: start))")
                    }
                    i += 1
                }
                let name = text(from: nameStart)
                guard peek == ">", !name.isEmpty else { throw PatternError(.syntax, "invalid capture group name in \(text(from: start))") }
                i += 1
                guard names.insert(name).inserted else { throw PatternError(.syntax, "duplicate capture group name \(name)") }
            } else {
                // Flags: (?i) (?-i) (?im-s:re) ...
                var negate = false
                var any = false
                while true {
                    guard let c = peek else { throw PatternError(.syntax, "missing closing ) in \(text(from: start))") }
                    i += 1
                    switch c {
                    case "i": flags.foldCase = !negate; any = true
                    case "m": flags.multiLine = !negate; any = true
                    case "s": flags.dotNewline = !negate; any = true
                    case "U": flags.ungreedy = !negate; any = true
                    case "-":
                        if negate { throw PatternError(.syntax, "invalid flags in \(text(from: start))") }
                        negate = true
                        any = false
                    case ")", ":":
                        if !any && (negate || c == ")" || i - start > 3) {
                            throw PatternError(.syntax, "invalid flags in \(text(from: start))")
                        }
                        if c == ")" { return nil }
                        return try groupBody(start: start, restoring: saved)
                    default:
                        if c.isASCII && c.properties.isAlphabetic {
                            throw PatternError(.unsupported, "flag \(c) in \(text(from: start)) is not supported (only i, m, s, U)")
                        }
                        throw PatternError(.syntax, "invalid flags in \(text(from: start))")
                    }
                }
            }
        }
        return try groupBody(start: start, restoring: saved)
    }

    /// The group's alternation up to its `)`; the flags set inside end with it.
    mutating func groupBody(start: Int, restoring saved: Flags) throws(PatternError) -> Node {
        try enter()
        let node = try alternation()
        depth -= 1
        guard peek == ")" else { throw PatternError(.syntax, "missing closing ) for the group at offset \(offsetOf(start))") }
        i += 1
        flags = saved
        return node
    }

    func offsetOf(_ index: Int) -> Int { s[0..<index].reduce(0) { $0 + UTF8.width($1) } }

    // MARK: Atoms

    /// A literal character, folded under `(?i)`.
    func literal(_ c: UInt32) -> Node {
        guard flags.foldCase else { return .char(c) }
        let variants = CharClass.caseVariants(c)
        return variants.isEmpty ? .char(c) : .set(CharClass.normalized([c...c] + variants.map { $0...$0 }))
    }

    /// A class's ranges, folded under `(?i)`.
    func folding(_ ranges: Ranges) -> Ranges {
        flags.foldCase ? CharClass.folded(CharClass.normalized(ranges)) : CharClass.normalized(ranges)
    }

    /// An escape outside a class: one or more nodes (`\Q…\E` gives several).
    mutating func escape() throws(PatternError) -> [Node] {
        let start = i
        i += 1
        guard let c = peek else { throw PatternError(.syntax, "trailing backslash at end of pattern") }
        switch c {
        case "A": i += 1; return [.assertion(.beginText)]
        case "z": i += 1; return [.assertion(.endText)]
        case "b": i += 1; return [.assertion(.wordBoundary)]
        case "B": i += 1; return [.assertion(.notWordBoundary)]
        case "Q":
            i += 1
            var nodes: [Node] = []
            while i < s.count, !looking(at: "\\E") {
                nodes.append(literal(s[i].value))
                i += 1
            }
            if looking(at: "\\E") { i += 2 }
            return nodes
        case "E":
            // A stray \E is ignored by Perl; Go refuses it.
            throw PatternError(.syntax, "invalid escape \\E (no \\Q before it)")
        case "d", "s", "w", "D", "S", "W", "p", "P":
            i = start
            return [.set(try classEscape())]
        case "Z": throw PatternError(.unsupported, "\\Z is not supported (\\z is the end of the text)")
        case "C": throw PatternError(.unsupported, "\\C (any byte) is not supported")
        case "G", "K", "R", "X", "h", "H", "N", "V", "l", "L", "u", "U":
            throw PatternError(.unsupported, "\\\(c) is not supported")
        case "k", "g":
            throw PatternError(.unsupported, "backreference \\\(c) is not supported")
        default:
            i = start
            return [literal(try escapedChar())]
        }
    }

    /// `\d \s \w \pX \p{Name} \p{^Name}` and their negations `\D \S \W \PX`, at a backslash.
    mutating func classEscape() throws(PatternError) -> Ranges {
        let start = i
        i += 1
        let c = s[i]
        i += 1
        if let ranges = CharClass.perl(Character(Unicode.Scalar(UInt8(c.value | 0x20)))) {
            let folded = folding(ranges)
            return c.properties.isUppercase ? CharClass.negated(folded) : folded
        }
        // \p or \P
        var negate = c == "P"
        var name: String
        if peek == "{" {
            i += 1
            let nameStart = i
            while let d = peek, d != "}" { i += 1 }
            guard peek == "}" else { throw PatternError(.syntax, "missing closing } in \(text(from: start))") }
            name = text(from: nameStart)
            i += 1
            if name.hasPrefix("^") {
                negate.toggle()
                name.removeFirst()
            }
        } else {
            guard let d = peek else { throw PatternError(.syntax, "missing Unicode class name after \(text(from: start))") }
            i += 1
            name = String(Character(d))
        }
        guard let ranges = CharClass.unicode(name) else {
            throw PatternError(.unsupported, "Unicode class \(text(from: start)) is not supported "
                               + "(general categories such as \\pL, \\p{Lu}, \\p{Nd} and \\p{Any} are; scripts are not)")
        }
        let folded = name == "Any" ? ranges : folding(ranges)
        return negate ? CharClass.negated(folded) : folded
    }

    /// One escaped character (`\n`, `\x41`, `\x{10FFFF}`, `\101`, `\.`), at a backslash.
    mutating func escapedChar() throws(PatternError) -> UInt32 {
        let start = i
        i += 1
        guard let c = peek else { throw PatternError(.syntax, "trailing backslash at end of pattern") }
        i += 1
        switch c {
        case "a": return 0x07
        case "f": return 0x0C
        case "t": return 0x09
        case "n": return 0x0A
        case "r": return 0x0D
        case "v": return 0x0B
        case "1", "2", "3", "4", "5", "6", "7", "0":
            // \0, \012: octal; \1 to \9 alone: a backreference.
            if c != "0", !(peek.map { ("0"..."7").contains($0) } ?? false) {
                throw PatternError(.unsupported, "backreference \\\(c) is not supported")
            }
            var value = c.value - 0x30
            for _ in 0..<2 {
                guard let d = peek, ("0"..."7").contains(d) else { break }
                value = value * 8 + d.value - 0x30
                i += 1
            }
            return value
        case "8", "9":
            throw PatternError(.unsupported, "backreference \\\(c) is not supported")
        case "x":
            var value: UInt32 = 0
            if peek == "{" {
                i += 1
                var digits = 0
                while let d = peek, let h = d.isASCII ? hexValue(d) : nil {
                    value = value * 16 + h
                    digits += 1
                    i += 1
                    if value > CharClass.maxScalar { break }
                }
                guard peek == "}", digits > 0, value <= CharClass.maxScalar else {
                    throw PatternError(.syntax, "invalid escape \(text(from: start))")
                }
                i += 1
                return value
            }
            for _ in 0..<2 {
                guard let d = peek, let h = d.isASCII ? hexValue(d) : nil else {
                    throw PatternError(.syntax, "invalid escape \(text(from: start))")
                }
                value = value * 16 + h
                i += 1
            }
            return value
        default:
            if c.isASCII && !(c.properties.isAlphabetic || c.properties.numericType == .decimal) {
                return c.value
            }
            throw PatternError(.syntax, "invalid escape \(text(from: start))")
        }
    }

    func hexValue(_ c: Unicode.Scalar) -> UInt32? {
        switch c {
        case "0"..."9": c.value - 0x30
        case "a"..."f": c.value - 0x61 + 10
        case "A"..."F": c.value - 0x41 + 10
        default: nil
        }
    }

    /// `[...]`, `[^...]`: ranges, escapes, Perl, POSIX and Unicode classes; `]` first is a literal.
    mutating func bracketClass() throws(PatternError) -> Ranges {
        let start = i
        try enter()
        defer { depth -= 1 }
        i += 1
        var negate = false
        if peek == "^" {
            negate = true
            i += 1
        }
        var ranges: Ranges = []
        var first = true
        while true {
            guard let c = peek else { throw PatternError(.syntax, "missing closing ] in \(text(from: start))") }
            if c == "]" && !first { break }
            first = false
            if looking(at: "[:") {
                let nameStart = i + 2
                var j = nameStart
                while j + 1 < s.count, !(s[j] == ":" && s[j + 1] == "]") { j += 1 }
                if j + 1 < s.count {
                    var name = ""
                    name.unicodeScalars.append(contentsOf: s[nameStart..<j])
                    let written = "[:\(name):]"
                    i = j + 2
                    var inverted = false
                    if name.hasPrefix("^") {
                        inverted = true
                        name.removeFirst()
                    }
                    guard let named = CharClass.posix(name) else {
                        throw PatternError(.syntax, "unknown class \(written) (alnum, alpha, ascii, blank, cntrl, digit, "
                                           + "graph, lower, print, punct, space, upper, word, xdigit)")
                    }
                    let folded = folding(named)
                    ranges += inverted ? CharClass.negated(folded) : folded
                    continue
                }
            }
            if c == "\\", let d = peek(1), "dswDSWpP".unicodeScalars.contains(d) {
                ranges += try classEscape()
                continue
            }
            let itemStart = i
            let lo = try classChar()
            var hi = lo
            if peek == "-", let after = peek(1), after != "]" {
                i += 1
                hi = try classChar()
                if hi < lo { throw PatternError(.syntax, "invalid class range \(text(from: itemStart))") }
            }
            ranges += folding([lo...hi])
        }
        i += 1
        let normalized = CharClass.normalized(ranges)
        return negate ? CharClass.negated(normalized) : normalized
    }

    /// One character inside a class: itself or an escape.
    mutating func classChar() throws(PatternError) -> UInt32 {
        guard let c = peek else { throw PatternError(.syntax, "missing closing ]") }
        if c == "\\" {
            if let d = peek(1), "bBAzQEZC".unicodeScalars.contains(d) {
                throw PatternError(.syntax, "invalid escape \\\(d) in a class")
            }
            return try escapedChar()
        }
        i += 1
        return c.value
    }
}
