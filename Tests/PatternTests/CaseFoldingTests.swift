import Testing
@testable import Pattern

/// Found by fuzzing (Fuzz/Sources/pattern): `(?i)\p{L}` folded every one of the class's 100,000 scalars each
/// time it was written, so a pattern of a thousand `(?i)\pL` kept a stage compiling for half a minute.
/// Folding now walks the table of cased scalars, made once.
@Suite("Pattern: case folding of classes")
struct CaseFoldingTests {
    /// Folding as it was: every scalar of every range.
    static func reference(_ ranges: Ranges) -> Ranges {
        var out = ranges
        for r in ranges where r.lowerBound <= CharClass.lastCased {
            for c in r.lowerBound...min(r.upperBound, CharClass.lastCased) {
                for v in CharClass.caseVariants(c) where !CharClass.contains(ranges, v) { out.append(v...v) }
            }
        }
        return CharClass.normalized(out)
    }

    @Test("the table holds only scalars with case variants, in order")
    func table() {
        let table = CharClass.casedScalars
        #expect(table.count > 2_000 && table.count < 5_000, "\(table.count) cased scalars")
        #expect(zip(table, table.dropFirst()).allSatisfy { $0.scalar < $1.scalar })
        #expect(table.allSatisfy { !$0.variants.isEmpty })
    }

    @Test("folding a class gives what folding each of its scalars gave", arguments: ["Lu", "Ll", "Lt", "Nl", "So"])
    func sameAsEachScalar(category: String) throws {
        let ranges = try #require(CharClass.unicode(category))
        #expect(CharClass.folded(ranges) == Self.reference(ranges))
    }

    @Test("small classes and ranges fold as before")
    func small() {
        for ranges: Ranges in [[0x61...0x7A], [0x41...0x41], [0x100...0x17F], [0x3A3...0x3A3], [0x212A...0x212B], [0x1E900...0x1E95F]] {
            #expect(CharClass.folded(ranges) == Self.reference(ranges), "\(ranges)")
        }
    }

    @Test("(?i) with a large class, many times, compiles and matches")
    func manyLargeClasses() throws {
        let p = try Pattern("(?i)^" + String(repeating: #"\pL"#, count: 100) + "$")
        #expect(p.matches(String(repeating: "ǅ", count: 100)))
        #expect(!p.matches(String(repeating: "ǅ", count: 99) + "1"))
        #expect(try Pattern(#"(?i)\p{Lu}"#).matches("ß"))
    }
}
