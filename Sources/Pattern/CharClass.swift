// Sets of Unicode scalars as sorted, disjoint, non-adjacent ranges: the classes of the syntax (`[a-z]`,
// `\d`, `[[:alpha:]]`, `\pL`), their negation and their case folding.

typealias Ranges = [ClosedRange<UInt32>]

enum CharClass {
    static let maxScalar: UInt32 = 0x10FFFF

    /// `ranges` sorted, with overlapping and adjacent ones merged.
    static func normalized(_ ranges: Ranges) -> Ranges {
        guard ranges.count > 1 else { return ranges }
        let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
        var out: Ranges = []
        out.reserveCapacity(sorted.count)
        for r in sorted {
            if let last = out.last, r.lowerBound <= last.upperBound &+ 1 {
                if r.upperBound > last.upperBound { out[out.count - 1] = last.lowerBound...r.upperBound }
            } else {
                out.append(r)
            }
        }
        return out
    }

    /// Every scalar value (0...10FFFF) not in `ranges` (normalized).
    static func negated(_ ranges: Ranges) -> Ranges {
        var out: Ranges = []
        var next: UInt32 = 0
        for r in ranges {
            if r.lowerBound > next { out.append(next...(r.lowerBound - 1)) }
            if r.upperBound >= maxScalar { return out }
            next = r.upperBound + 1
        }
        out.append(next...maxScalar)
        return out
    }

    // MARK: Case folding

    /// Scalars above this have no case (the last cased block is Adlam's, U+1E900–1E95F).
    static let lastCased: UInt32 = 0x1E95F

    /// Case orbits of more than two members that the single-scalar case mappings do not close
    /// (Unicode's simple case folding, as Go's `unicode.SimpleFold`).
    static let orbits: [[UInt32]] = [
        [0x4B, 0x6B, 0x212A], [0x53, 0x73, 0x17F], [0xC5, 0xE5, 0x212B], [0xB5, 0x39C, 0x3BC],
        [0xDF, 0x1E9E], [0x392, 0x3B2, 0x3D0], [0x395, 0x3B5, 0x3F5], [0x398, 0x3B8, 0x3D1, 0x3F4],
        [0x399, 0x3B9, 0x345, 0x1FBE], [0x39A, 0x3BA, 0x3F0], [0x3A0, 0x3C0, 0x3D6], [0x3A1, 0x3C1, 0x3F1],
        [0x3A3, 0x3C2, 0x3C3], [0x3A6, 0x3C6, 0x3D5], [0x3A9, 0x3C9, 0x2126], [0x1E60, 0x1E61, 0x1E9B],
    ]

    /// The other scalars that match `c` ignoring case (empty when it has no case).
    static func caseVariants(_ c: UInt32) -> [UInt32] {
        guard c <= lastCased, let scalar = Unicode.Scalar(c) else { return [] }
        var found: [UInt32] = []
        for orbit in orbits where orbit.contains(c) { found += orbit.filter { $0 != c } }
        guard scalar.properties.changesWhenCaseMapped || !found.isEmpty else { return [] }
        var pending: [Unicode.Scalar] = [scalar]
        var seen: [UInt32] = [c] + found
        while let s = pending.popLast() {
            for mapping in [s.properties.lowercaseMapping, s.properties.uppercaseMapping, s.properties.titlecaseMapping] {
                let scalars = mapping.unicodeScalars
                guard scalars.count == 1, let m = scalars.first, !seen.contains(m.value) else { continue }
                seen.append(m.value)
                found.append(m.value)
                pending.append(m)
            }
        }
        return found
    }

    /// Every scalar that has case variants, with them, in scalar order (a few thousand): made once, so that
    /// folding a class costs the cased scalars in it, not every scalar of its ranges (`(?i)\pL` would
    /// otherwise look at 100,000 scalars each time it is written).
    static let casedScalars: [(scalar: UInt32, variants: [UInt32])] = {
        let inOrbits = Set(orbits.joined())
        var table: [(scalar: UInt32, variants: [UInt32])] = []
        for c in 0...lastCased {
            guard let s = Unicode.Scalar(c), s.properties.changesWhenCaseMapped || inOrbits.contains(c) else { continue }
            let variants = caseVariants(c)
            if !variants.isEmpty { table.append((c, variants)) }
        }
        return table
    }()

    /// `ranges` (normalized) with every scalar's case variants added.
    static func folded(_ ranges: Ranges) -> Ranges {
        var out = ranges
        let table = casedScalars
        for r in ranges where r.lowerBound <= lastCased {
            // The first cased scalar of the range, then each one up to its end.
            var lo = 0
            var hi = table.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if table[mid].scalar < r.lowerBound { lo = mid + 1 } else { hi = mid }
            }
            while lo < table.count, table[lo].scalar <= r.upperBound {
                for v in table[lo].variants where !contains(ranges, v) { out.append(v...v) }
                lo += 1
            }
        }
        return normalized(out)
    }

    static func contains(_ ranges: Ranges, _ c: UInt32) -> Bool {
        var lo = 0
        var hi = ranges.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ranges[mid].upperBound < c { lo = mid + 1 } else if ranges[mid].lowerBound > c { hi = mid } else { return true }
        }
        return false
    }

    // MARK: Named classes

    private static func ascii(_ pairs: [(Character, Character)]) -> Ranges {
        pairs.map { UInt32($0.0.asciiValue!)...UInt32($0.1.asciiValue!) }
    }

    /// `\d \s \w` (ASCII, as Go's: `\s` is `[\t\n\f\r ]`).
    static func perl(_ letter: Character) -> Ranges? {
        switch letter {
        case "d": return ascii([("0", "9")])
        case "s": return [0x09...0x0A, 0x0C...0x0D, 0x20...0x20]
        case "w": return ascii([("0", "9"), ("A", "Z"), ("_", "_"), ("a", "z")])
        default: return nil
        }
    }

    /// `[:name:]` (ASCII, as Go's).
    static func posix(_ name: String) -> Ranges? {
        switch name {
        case "alnum": return ascii([("0", "9"), ("A", "Z"), ("a", "z")])
        case "alpha": return ascii([("A", "Z"), ("a", "z")])
        case "ascii": return [0...0x7F]
        case "blank": return [0x09...0x09, 0x20...0x20]
        case "cntrl": return [0...0x1F, 0x7F...0x7F]
        case "digit": return ascii([("0", "9")])
        case "graph": return ascii([("!", "~")])
        case "lower": return ascii([("a", "z")])
        case "print": return ascii([(" ", "~")])
        case "punct": return ascii([("!", "/"), (":", "@"), ("[", "`"), ("{", "~")])
        case "space": return [0x09...0x0D, 0x20...0x20]
        case "upper": return ascii([("A", "Z")])
        case "word": return ascii([("0", "9"), ("A", "Z"), ("_", "_"), ("a", "z")])
        case "xdigit": return ascii([("0", "9"), ("A", "F"), ("a", "f")])
        default: return nil
        }
    }

    /// `\p{name}`: a general category by its one- or two-letter name (`L`, `Lu`, `Nd`…), or `Any`; nil for
    /// any other name (the standard library gives no scripts).
    static func unicode(_ name: String) -> Ranges? {
        if name == "Any" { return [0...maxScalar] }
        if name.count == 1 {
            let members = categoryNames.filter { $0.hasPrefix(name) && (name != "C" || $0 != "Cn") }
            guard !members.isEmpty else { return nil }
            return normalized(members.flatMap { Categories.table[$0] ?? [] })
        }
        return Categories.table[name]
    }

    static let categoryNames = ["Cc", "Cf", "Cn", "Co", "Cs", "Ll", "Lm", "Lo", "Lt", "Lu", "Mc", "Me", "Mn", "Nd",
                                "Nl", "No", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "Sc", "Sk", "Sm", "So", "Zl",
                                "Zp", "Zs"]
}

/// The general categories' ranges, built once from the standard library's Unicode properties.
enum Categories {
    static let table: [String: Ranges] = build()

    static func name(_ category: Unicode.GeneralCategory) -> String {
        switch category {
        case .uppercaseLetter: "Lu"
        case .lowercaseLetter: "Ll"
        case .titlecaseLetter: "Lt"
        case .modifierLetter: "Lm"
        case .otherLetter: "Lo"
        case .nonspacingMark: "Mn"
        case .spacingMark: "Mc"
        case .enclosingMark: "Me"
        case .decimalNumber: "Nd"
        case .letterNumber: "Nl"
        case .otherNumber: "No"
        case .connectorPunctuation: "Pc"
        case .dashPunctuation: "Pd"
        case .openPunctuation: "Ps"
        case .closePunctuation: "Pe"
        case .initialPunctuation: "Pi"
        case .finalPunctuation: "Pf"
        case .otherPunctuation: "Po"
        case .mathSymbol: "Sm"
        case .currencySymbol: "Sc"
        case .modifierSymbol: "Sk"
        case .otherSymbol: "So"
        case .spaceSeparator: "Zs"
        case .lineSeparator: "Zl"
        case .paragraphSeparator: "Zp"
        case .control: "Cc"
        case .format: "Cf"
        case .surrogate: "Cs"
        case .privateUse: "Co"
        case .unassigned: "Cn"
        @unknown default: "Cn"
        }
    }

    static func build() -> [String: Ranges] {
        var table: [String: Ranges] = [:]
        var current = "Cc"
        var start: UInt32 = 0
        for v: UInt32 in 0...CharClass.maxScalar {
            let category = Unicode.Scalar(v).map { name($0.properties.generalCategory) } ?? "Cs"
            if category != current {
                table[current, default: []].append(start...(v - 1))
                current = category
                start = v
            }
        }
        table[current, default: []].append(start...CharClass.maxScalar)
        return table
    }
}
