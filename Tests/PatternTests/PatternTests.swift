import Testing
@testable import Pattern

/// Go's `regexp.MatchString(pattern, text)` for each case, as Go answers it.
@Suite("Pattern: Go's regexp syntax")
struct SyntaxTests {
    static func matches(_ pattern: String, _ text: String) throws -> Bool { try Pattern(pattern).matches(text) }

    static let cases: [(String, String, Bool)] = [
        // Literals, concatenation, the empty pattern.
        ("", "", true), ("", "abc", true), ("a", "a", true), ("a", "b", false), ("abc", "xxabcxx", true),
        ("abc", "ab", false), ("abc", "abd abc", true), ("é", "café", true), ("日本", "こんにちは日本語", true),
        ("日本", "日 本", false), ("💩", "x💩y", true),
        // Escapes.
        (#"\."#, "a.b", true), (#"\."#, "ab", false), (#"a\+b"#, "a+b", true), (#"\t"#, "a\tb", true),
        (#"\n"#, "a\nb", true), (#"\r\f\v\a"#, "\r\u{0C}\u{0B}\u{07}", true), (#"\x41"#, "A", true), (#"\x41"#, "a", false),
        (#"\x{1F4A9}"#, "💩", true), (#"\x{10FFFF}"#, "\u{10FFFF}", true), (#"\x{e9}"#, "é", true), (#"\101"#, "A", true),
        (#"\0"#, "\0", true), (#"\012"#, "\n", true), (#"\\"#, #"a\b"#, true), (#"\ "#, " ", true), (#"\-\]\["#, "-][", true),
        (#"\Qa.b\E"#, "a.b", true), (#"\Qa.b\E"#, "axb", false), (#"\Q(*)"#, "(*)", true), (#"x\Q\E+"#, "xx", true),
        // Any character.
        (".", "x", true), (".", "", false), (".", "\n", false), ("(?s).", "\n", true), ("a.c", "abc", true),
        ("a.c", "a\nc", false), ("a.c", "aéc", true), ("^.$", "💩", true), ("^..$", "é", false),
        // Classes.
        ("[abc]", "b", true), ("[abc]", "d", false), ("[a-c]", "b", true), ("[^a-c]", "b", false), ("[^a-c]", "d", true),
        ("[^a]", "\n", true), ("[]a]", "]", true), ("[]a]", "a", true), ("[^]a]", "]", false), ("[a-]", "-", true),
        ("[-a]", "-", true), ("[a-c-e]", "-", true), ("[a-c-e]", "d", false), (#"[\]]"#, "]", true), (#"[\\]"#, #"\"#, true),
        (#"[\x41-\x43]"#, "B", true), (#"[\d]"#, "5", true), (#"[\D]"#, "5", false), (#"[^\d]"#, "x", true),
        (#"[\s\d]"#, " ", true), (#"[\w-]"#, "-", true), ("[α-ω]", "λ", true), ("[α-ω]", "Λ", false),
        ("[[:alpha:]]", "x", true), ("[[:alpha:]]", "1", false), ("[[:^alpha:]]", "1", true), ("[[:^alpha:]]", "x", false),
        ("[[:digit:][:upper:]]", "Q", true), ("[[:space:]]", "\u{0B}", true), ("[[:punct:]]", "!", true),
        ("[[:punct:]]", "a", false), ("[[:xdigit:]]+$", "DeadBeef", true), ("[[:word:]]", "_", true),
        ("[[:alnum:]]", "é", false), ("[[:blank:]]", "\t", true), ("[[:cntrl:]]", "\u{7F}", true),
        ("[[:print:]]", " ", true), ("[[:graph:]]", " ", false), ("[[:lower:]]", "A", false), ("[[:ascii:]]", "é", false),
        ("[a[]", "[", true), ("[[:alpha:]x]", "x", true), ("[[:alpha]", "[", true),
        // Perl classes (ASCII, as Go's).
        (#"\d"#, "7", true), (#"\d"#, "٣", false), (#"\D"#, "٣", true), (#"\w"#, "_", true), (#"\w"#, "é", false),
        (#"\W"#, "é", true), (#"\s"#, "\t", true), (#"\s"#, "\u{0B}", false), (#"\s"#, "\u{A0}", false), (#"\S"#, " ", false),
        (#"^\d{4}-\d\d-\d\d"#, "2024-05-01 x", true), (#"^\d{4}-\d\d-\d\d"#, "24-05-01", false),
        // Unicode classes.
        (#"\pL"#, "é", true), (#"\pL"#, "1", false), (#"\p{L}"#, "日", true), (#"\PL"#, "1", true), (#"\PL"#, "x", false),
        (#"\p{Lu}"#, "Σ", true), (#"\p{Lu}"#, "σ", false), (#"\p{Ll}"#, "σ", true), (#"\p{Nd}"#, "٣", true),
        (#"\pN"#, "Ⅻ", true), (#"\p{^N}"#, "x", true), (#"\p{^N}"#, "5", false), (#"\p{Zs}"#, "\u{A0}", true),
        (#"\pP"#, "¿", true), (#"\pS"#, "€", true), (#"\p{Sc}"#, "€", true), (#"\pM"#, "\u{301}", true),
        (#"\p{Any}"#, "x", true), (#"\p{Cc}"#, "\u{1}", true), (#"\pC"#, "\u{200B}", true), (#"[\p{Lu}\d]"#, "3", true),
        (#"[^\pL]"#, "é", false), (#"[\P{L}]"#, "é", false),
        // Anchors.
        ("^abc", "abc", true), ("^abc", "xabc", false), ("abc$", "xabc", true), ("abc$", "abcx", false),
        ("^$", "", true), ("^$", "x", false), ("^", "anything", true), ("$", "anything", true),
        ("a$", "a\n", false), ("^b", "a\nb", false), ("(?m)^b", "a\nb", true), ("(?m)a$", "a\nb", true),
        ("(?m)^$", "a\n\nb", true), ("(?m)^$", "a\nb", false), (#"\Ab"#, "a\nb", false), (#"(?m)\Ab"#, "a\nb", false),
        (#"a\z"#, "a\n", false), (#"(?m)a\z"#, "ba", true), (#"\bfoo\b"#, "a foo b", true), (#"\bfoo\b"#, "afoo", false),
        (#"\bfoo\b"#, "foo", true), (#"\Bfoo"#, "afoo", true), (#"\Bfoo"#, "a foo", false), (#"\b"#, "", false),
        (#"\B"#, "", true), (#"\b"#, "é", false), (#"x\b"#, "xé", true), ("a^b", "a^b", false), ("x*^y", "y", true),
        // Alternation and groups.
        ("a|b", "b", true), ("a|b", "c", false), ("abc|def", "xdefx", true), ("a(b|c)d", "acd", true),
        ("a(b|c)d", "aed", false), ("(a|)b", "b", true), ("(|a)b", "ab", true), ("a|", "x", true), ("(?:ab)+$", "abab", true),
        ("(?:ab)+$", "aba", false), ("(?P<year>\\d{4})-", "2024-", true), ("(?<y>\\d+)x", "12x", true),
        ("((a)(b(c)))", "abc", true), ("^(?:a|ab)(?:c|bcd)$", "abcd", true), ("^(a|ab)(c|bcd)(d*)$", "abcd", true),
        // Repetition.
        ("a*", "", true), ("^a*$", "aaa", true), ("^a*$", "aab", false), ("^a+$", "", false), ("^a+$", "aa", true),
        ("^a?$", "", true), ("^a?$", "aa", false), ("^a{3}$", "aaa", true), ("^a{3}$", "aa", false),
        ("^a{3}$", "aaaa", false), ("^a{2,}$", "aaaaa", true), ("^a{2,}$", "a", false), ("^a{1,3}$", "aaa", true),
        ("^a{1,3}$", "aaaa", false), ("^a{0}$", "", true), ("^a{0}$", "a", false), ("^a{0,1}b$", "b", true),
        ("^(ab){2}$", "abab", true), ("^(ab){2}$", "ab", false), ("a{,3}", "a{,3}", true), ("a{,3}", "aaa", false),
        ("a{", "a{", true), ("a{1", "a{1", true), ("a{1,2", "a{1,2", true), ("{", "{", true), ("x{1}y", "xy", true),
        ("^a*?$", "aa", true), ("^a+?b", "aab", true), ("^a??b", "ab", true), ("^a{2}?$", "aa", true),
        ("^a{1,2}?$", "aa", true), ("(?U)^a+$", "aaa", true), ("(?U)^a+?$", "aaa", true),
        ("^(a*)*$", "aaaa", true), ("^(a*)+$", "", true), ("^(a|b)*c", "ababc", true), ("^(?:a?){3}a{3}$", "aaa", true),
        ("^(){3}$", "", true), ("^(()*)*x", "x", true), (#"^\b*x"#, "x", true), ("^(a{2}){2}$", "aaaa", true),
        // Flags.
        ("(?i)abc", "ABC", true), ("(?i)abc", "aBd", false), ("a(?i)bc", "aBC", true), ("a(?i)bc", "ABC", false),
        ("(?i:a)b", "Ab", true), ("(?i:a)b", "AB", false), ("(?i)a(?-i)b", "Ab", true), ("(?i)a(?-i)b", "AB", false),
        ("((?i)a)b", "AB", false), ("((?i)a)b", "Ab", true), ("(?i)a|b", "B", true), ("(?i)[a-c]", "B", true),
        ("(?i)[^a]", "A", false), ("(?i)é", "É", true), ("(?i)σ", "Σ", true), ("(?i)σ", "ς", true), ("(?i)k", "\u{212A}", true),
        ("(?i)K", "\u{212A}", true), ("(?i)s", "ſ", true), ("(?i)ß", "ẞ", true), ("(?i)\\Qab\\E", "AB", true),
        ("(?i)[[:upper:]]", "a", true), ("[[:upper:]]", "a", false), ("(?i)\\p{Lu}", "a", true), ("(?i)\\W", "\u{212A}", false),
        ("(?is).", "\n", true), ("(?s-i:.)", "\n", true), ("(?ms)^a.b$", "x\na\nb", true), ("(?m:^b)", "a\nb", true),
        ("(?m:^b)|^c", "a\nc", false), ("(?:(?i)a)a", "Aa", true), ("(?:(?i)a)a", "AA", false),
    ]

    @Test("each case as Go's regexp answers it", arguments: cases)
    func goCase(_ pattern: String, _ text: String, _ expected: Bool) throws {
        #expect(try Self.matches(pattern, text) == expected, "\(pattern) against \(text.debugDescription)")
    }

    @Test("a line with malformed UTF-8 reads U+FFFD for each bad byte")
    func malformed() throws {
        let p = try Pattern(#"^a\x{FFFD}{2}b$"#)
        #expect(p.matches(utf8: [0x61, 0xFF, 0xC3, 0x62]))
        #expect(!p.matches(utf8: [0x61, 0xFF, 0x62]))
        #expect(try Pattern("é").matches(utf8: [0xC3, 0xA9]))
        #expect(try !Pattern("é").matches(utf8: [0xC3]))
        #expect(try Pattern(#"\x{FFFD}"#).matches(utf8: [0x61, 0xE2, 0x82]))
        #expect(try Pattern("^.{3}$").matches(utf8: [0xF0, 0x9F, 0x92]))
    }

    @Test("a Substring is matched in place")
    func substring() throws {
        let line = "xx 2024-05-01 yy"
        #expect(try Pattern(#"^\d{4}-"#).matches(line.dropFirst(3)))
        #expect(try !Pattern(#"^\d{4}-"#).matches(line.dropFirst(2)))
    }
}

@Suite("Pattern: refusals and limits")
struct RefusalTests {
    static let refused: [(String, PatternError.Kind, String)] = [
        ("(", .syntax, "missing closing ) for the group at offset 0"),
        ("(a|b", .syntax, "missing closing ) for the group at offset 0"),
        ("a)", .syntax, "unexpected ) at offset 1"),
        ("[a", .syntax, "missing closing ] in [a"),
        ("[]", .syntax, "missing closing ] in []"),
        ("[[:alpha:]", .syntax, "missing closing ] in [[:alpha:]"),
        ("[z-a]", .syntax, "invalid class range z-a"),
        ("*", .syntax, "missing argument to repetition operator *"),
        ("a|+", .syntax, "missing argument to repetition operator +"),
        ("(?i)?", .syntax, "missing argument to repetition operator ?"),
        ("a**", .syntax, "invalid nested repetition operator **"),
        ("a*??", .syntax, "invalid nested repetition operator *??"),
        ("a{2}{3}", .syntax, "invalid nested repetition operator {2}{"),
        ("a{3,2}", .syntax, "invalid repeat count {3,2}"),
        (#"\y"#, .syntax, #"invalid escape \y"#),
        (#"\x4"#, .syntax, #"invalid escape \x4"#),
        (#"\x{110000}"#, .syntax, #"invalid escape \x{110000"#),
        ("a\\", .syntax, "trailing backslash at end of pattern"),
        ("[[:foo:]]", .syntax, "unknown class [:foo:] (alnum, alpha, ascii, blank, cntrl, digit, graph, lower, print, punct, space, upper, word, xdigit)"),
        (#"[\b]"#, .syntax, #"invalid escape \b in a class"#),
        ("(?)", .syntax, "invalid flags in (?)"),
        ("(?i-)", .syntax, "invalid flags in (?i-)"),
        ("(?P<>a)", .syntax, "invalid capture group name in (?P<"),
        ("(?P<a-b>a)", .syntax, "invalid capture group name in (?P<a"),
        ("(?P<n>a)(?P<n>b)", .syntax, "duplicate capture group name n"),
        (#"(a)\1"#, .unsupported, #"backreference \1 is not supported"#),
        (#"(a)\9"#, .unsupported, #"backreference \9 is not supported"#),
        (#"(?P<n>a)\k<n>"#, .unsupported, #"backreference \k is not supported"#),
        ("(?P<n>a)(?P=n)", .unsupported, "backreference (?P= is not supported"),
        ("a(?=b)", .unsupported, "lookahead (?= is not supported"),
        ("a(?!b)", .unsupported, "negative lookahead (?! is not supported"),
        ("(?<=a)b", .unsupported, "lookbehind (?<= is not supported"),
        ("(?<!a)b", .unsupported, "negative lookbehind (?<! is not supported"),
        ("(?>a+)b", .unsupported, "atomic group (?> is not supported"),
        ("a*+", .unsupported, "possessive quantifier *+ is not supported"),
        ("a++", .unsupported, "possessive quantifier ++ is not supported"),
        ("a{2}+", .unsupported, "possessive quantifier {2}+ is not supported"),
        (#"\C"#, .unsupported, #"\C (any byte) is not supported"#),
        (#"a\Z"#, .unsupported, #"\Z is not supported (\z is the end of the text)"#),
        (#"\G"#, .unsupported, #"\G is not supported"#),
        ("(?x)a b", .unsupported, "flag x in (?x is not supported (only i, m, s, U)"),
        (#"\p{Greek}"#, .unsupported, #"Unicode class \p{Greek} is not supported (general categories such as \pL, \p{Lu}, \p{Nd} and \p{Any} are; scripts are not)"#),
        (#"\pX"#, .unsupported, #"Unicode class \pX is not supported (general categories such as \pL, \p{Lu}, \p{Nd} and \p{Any} are; scripts are not)"#),
        ("a{1001}", .tooLarge, "repetition count in {1001} is over 1000"),
        ("a{2,1001}", .tooLarge, "repetition count in {2,1001} is over 1000"),
        ("a{99999999999999999999}", .tooLarge, "repetition count in {99999999999999999999} is over 1000"),
        ("(a{1000}){1000}", .tooLarge, "pattern compiles to more than 5000 instructions"),
        ("((a{100}){100}){100}", .tooLarge, "pattern compiles to more than 5000 instructions"),
        (String(repeating: "(", count: 201) + String(repeating: ")", count: 201), .tooLarge, "groups nested more than 200 deep"),
        (String(repeating: "a", count: 4097), .tooLarge, "pattern of 4097 bytes is longer than 4096"),
    ]

    @Test("what RE2 refuses, and what is over a limit, is refused with one line naming it", arguments: refused)
    func refusal(_ pattern: String, _ kind: PatternError.Kind, _ message: String) {
        #expect(throws: PatternError(kind, message)) { try Pattern(pattern) }
    }

    @Test("at the limits: 1000 repetitions, 200 nested groups, 4096 bytes, 5000 instructions compile")
    func atTheLimits() throws {
        #expect(try Pattern("^a{1000}$").matches(String(repeating: "a", count: 1000)))
        #expect(try !Pattern("^a{1000}$").matches(String(repeating: "a", count: 999)))
        #expect(try !Pattern("^a{1000}$").matches(String(repeating: "a", count: 1001)))
        #expect(try Pattern("^a{2,1000}$").matches(String(repeating: "a", count: 1000)))
        let nested = String(repeating: "(", count: 200) + "a" + String(repeating: ")", count: 200)
        #expect(try Pattern(nested).matches("a"))
        #expect(try Pattern(String(repeating: "a", count: 4096)).matches(String(repeating: "a", count: 4096)))
        let big = try Pattern("a{1000}b{1000}c{1000}d{1000}e{999}")
        #expect(big.instructionCount == Pattern.maxInstructions)
        // Empty groups repeated compile to nothing, however deep.
        #expect(try Pattern("((((){1000}){1000}){1000}){1000}x").instructionCount == 2)
    }
}

/// Patterns that take exponential time on a backtracking engine: each completes here (the test would hang
/// otherwise) with the right answer.
@Suite("Pattern: linear time")
struct LinearTimeTests {
    static let long = 100_000

    @Test("nested and ambiguous repetitions on long lines")
    func pathological() throws {
        let a = String(repeating: "a", count: Self.long)
        #expect(try !Pattern("^(a+)+$").matches(String(repeating: "a", count: 24) + "!"))
        #expect(try !Pattern("^(a+)+$").matches(a + "!"))
        #expect(try Pattern("^(a+)+$").matches(a))
        #expect(try !Pattern("(a|a)*b").matches(a))
        #expect(try Pattern("(a|a)*b").matches(a + "b"))
        #expect(try Pattern("(a*)*$").matches(a + "!"))
        #expect(try !Pattern("^(a*)*$").matches(a + "!"))
        #expect(try !Pattern("(x+x+)+y").matches(String(repeating: "x", count: Self.long)))
        #expect(try Pattern("(x+x+)+y").matches(String(repeating: "x", count: Self.long) + "y"))
        #expect(try !Pattern("^(\\w+\\s?)*$").matches(String(repeating: "word ", count: Self.long / 5) + "!"))
        #expect(try !Pattern("(.*a){20}").matches(String(repeating: "a", count: 19) + String(repeating: "b", count: Self.long)))
        #expect(try !Pattern("^(a|aa|aaa)+$").matches(a + "b"))
        // 1,000 states live at every character: the program's size bounds the work per character.
        #expect(try !Pattern("a{1000}b").matches(String(repeating: "a", count: 5_000)))
        #expect(try !Pattern(#"^([a-z]+\.)+[a-z]{2,}$"#).matches(String(repeating: "a.", count: Self.long / 2) + "!"))
    }

    @Test("a long line with no possible start is skipped quickly, and matched at its very end")
    func longLines() throws {
        let line = String(repeating: "é ", count: Self.long)
        #expect(try !Pattern("x").matches(line))
        #expect(try Pattern("x$").matches(line + "x"))
        #expect(try Pattern(#"\\$"#).matches(line + "\\"))
        #expect(try Pattern("(?i)日本").matches(line + "日本"))
        #expect(try Pattern(#"\bfoo\b"#).matches(line + "foo"))
    }
}
