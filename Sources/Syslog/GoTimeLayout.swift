import Time

/// A Go reference-time layout (`time.Format`'s layout language), as logspout's
/// `DATETIME_FORMAT` takes it: `"2006-01-02T15:04:05MST"`, `"Jan _2 15:04:05"`, …
///
/// The layout is split into elements once, by a port of Go's tokenizer
/// (`nextStdChunk` in `time/format.go`) with its precedence and quirks, so
/// formatting only walks the pieces. Text that is not an element is copied
/// literally, as in Go; no layout is invalid. Times are always written in
/// UTC: `MST` gives `UTC`, `-0700` gives `+0000`, `Z07:00` gives `Z`.
///
/// The elements (see docs/syslog.md for the table): `2006 06` year,
/// `01 1 Jan January` month, `02 2 _2` day, `002 __2` day of the year,
/// `Mon Monday` weekday, `15 03 3` hour, `04 4` minute, `05 5` second,
/// `PM pm`, `MST`, `-0700 -07:00 -07 -070000 -07:00:00` and their `Z` forms,
/// and fractional seconds: `.` or `,` followed by 0s (kept) or 9s (trailing
/// zeros trimmed) and then a non-digit.
public struct GoTimeLayout: Sendable, Equatable, CustomStringConvertible {
    /// The layout as given.
    public let layout: String
    let chunks: [Chunk]
    let literals: [UInt8]
    /// True when the output depends on the fraction of a second.
    let usesFraction: Bool

    enum Element: UInt8, Sendable {
        case longMonth, month, numMonth, zeroMonth, longWeekDay, weekDay
        case day, underDay, zeroDay, underYearDay, zeroYearDay
        case hour, hour12, zeroHour12, minute, zeroMinute, second, zeroSecond
        case longYear, year, pm, lowerPM, tz
        case iso8601TZ, iso8601SecondsTZ, iso8601ShortTZ, iso8601ColonTZ, iso8601ColonSecondsTZ
        case numTZ, numSecondsTZ, numShortTZ, numColonTZ, numColonSecondsTZ
        case fracSecond0, fracSecond9
    }

    struct Token: Sendable, Equatable {
        var element: Element
        /// Fractional seconds: the number of digits (Go keeps it in 12 bits) and the separator.
        var digits: Int = 0
        var separator: UInt8 = 0x2E
    }

    enum Chunk: Sendable, Equatable {
        case literal(start: Int, end: Int)
        case token(Token)
    }

    /// `"2006-01-02T15:04:05MST"`, the Deis logspout default.
    public static let deisDefault = GoTimeLayout("2006-01-02T15:04:05MST")
    /// Go's `time.Stamp`, `"Jan _2 15:04:05"`: the RFC 3164 timestamp.
    public static let stamp = GoTimeLayout("Jan _2 15:04:05")

    public init(_ layout: String) {
        self.layout = layout
        let bytes = Array(layout.utf8)
        var chunks: [Chunk] = []
        var literals: [UInt8] = []
        var usesFraction = false
        var at = 0
        while at < bytes.count {
            let (prefixEnd, token, next) = GoTimeLayout.nextChunk(bytes, from: at)
            if prefixEnd > at {
                let start = literals.count
                literals.append(contentsOf: bytes[at..<prefixEnd])
                chunks.append(.literal(start: start, end: literals.count))
            }
            guard let token else { break }
            if token.element == .fracSecond0 || token.element == .fracSecond9 { usesFraction = true }
            chunks.append(.token(token))
            at = next
        }
        self.chunks = chunks
        self.literals = literals
        self.usesFraction = usesFraction
    }

    public var description: String { layout }

    /// The text `t` gives, in UTC.
    public func format(_ t: Timestamp) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(literals.count + 10 * chunks.count)
        append(t, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `t` formatted in UTC (zone name `UTC`, offset 0).
    public func append(_ t: Timestamp, to out: inout [UInt8]) {
        let c = CivilTime(t)
        var yday = -1
        literals.withUnsafeBufferPointer { lit in
            for chunk in chunks {
                switch chunk {
                case .literal(let s, let e):
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: lit[s..<e]))
                case .token(let token):
                    if yday < 0, token.element == .underYearDay || token.element == .zeroYearDay {
                        yday = c.yearDay
                    }
                    GoTimeLayout.append(token, c, yday: yday, to: &out)
                }
            }
        }
    }

    // MARK: Formatting one element

    static let shortMonths: StaticString = "JanFebMarAprMayJunJulAugSepOctNovDec"
    static let shortDays: StaticString = "SunMonTueWedThuFriSat"
    static let longMonths: [StaticString] = [
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ]
    static let longDays: [StaticString] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    static func append(_ token: Token, _ c: CivilTime, yday: Int, to out: inout [UInt8]) {
        switch token.element {
        case .year: Digits.append(Int64(abs(c.year % 100)), width: 2, to: &out)
        case .longYear: Digits.append(c.year, width: 4, to: &out)
        case .month: Digits.appendSlice(shortMonths, at: 3 * (c.month - 1), count: 3, to: &out)
        case .longMonth: Digits.append(longMonths[c.month - 1], to: &out)
        case .numMonth: Digits.append(Int64(c.month), width: 0, to: &out)
        case .zeroMonth: Digits.append(Int64(c.month), width: 2, to: &out)
        case .weekDay: Digits.appendSlice(shortDays, at: 3 * c.weekday, count: 3, to: &out)
        case .longWeekDay: Digits.append(longDays[c.weekday], to: &out)
        case .day: Digits.append(Int64(c.day), width: 0, to: &out)
        case .underDay:
            if c.day < 10 { out.append(0x20) }
            Digits.append(Int64(c.day), width: 0, to: &out)
        case .zeroDay: Digits.append(Int64(c.day), width: 2, to: &out)
        case .underYearDay:
            if yday < 100 {
                out.append(0x20)
                if yday < 10 { out.append(0x20) }
            }
            Digits.append(Int64(yday), width: 0, to: &out)
        case .zeroYearDay: Digits.append(Int64(yday), width: 3, to: &out)
        case .hour: Digits.append(Int64(c.hour), width: 2, to: &out)
        case .hour12: Digits.append(Int64(c.hour % 12 == 0 ? 12 : c.hour % 12), width: 0, to: &out)
        case .zeroHour12: Digits.append(Int64(c.hour % 12 == 0 ? 12 : c.hour % 12), width: 2, to: &out)
        case .minute: Digits.append(Int64(c.minute), width: 0, to: &out)
        case .zeroMinute: Digits.append(Int64(c.minute), width: 2, to: &out)
        case .second: Digits.append(Int64(c.second), width: 0, to: &out)
        case .zeroSecond: Digits.append(Int64(c.second), width: 2, to: &out)
        case .pm: Digits.append(c.hour >= 12 ? "PM" : "AM", to: &out)
        case .lowerPM: Digits.append(c.hour >= 12 ? "pm" : "am", to: &out)
        case .tz: Digits.append("UTC", to: &out)
        case .iso8601TZ, .iso8601SecondsTZ, .iso8601ShortTZ, .iso8601ColonTZ, .iso8601ColonSecondsTZ:
            out.append(UInt8(ascii: "Z"))  // offset 0: ISO 8601's Z
        case .numTZ: Digits.append("+0000", to: &out)
        case .numSecondsTZ: Digits.append("+000000", to: &out)
        case .numShortTZ: Digits.append("+00", to: &out)
        case .numColonTZ: Digits.append("+00:00", to: &out)
        case .numColonSecondsTZ: Digits.append("+00:00:00", to: &out)
        case .fracSecond0, .fracSecond9:
            appendNano(Int(c.nanosecond), token, to: &out)
        }
    }

    /// Go's `appendNano`: a separator and `digits` digits of the fraction
    /// (at most nine are ever written); the 9s form drops trailing zeros, and
    /// the separator too when nothing is left.
    static func appendNano(_ nanos: Int, _ token: Token, to out: inout [UInt8]) {
        let trim = token.element == .fracSecond9
        let n = token.digits
        if trim && (n == 0 || nanos == 0) { return }
        let mark = out.count
        out.append(token.separator)
        Digits.append(Int64(nanos), width: 9, to: &out)
        if n < 9 { out.removeLast(9 - n) }
        if trim {
            while out.count > mark + 1 && out[out.count - 1] == 0x30 { out.removeLast() }
            if out.count == mark + 1 { out.removeLast() }
        }
    }

    // MARK: Go's tokenizer

    static let zeroX: [Element] = [.zeroMonth, .zeroDay, .zeroHour12, .zeroMinute, .zeroSecond, .year]

    /// Go's `nextStdChunk`: from `start`, the end of the literal text before
    /// the next element, the element (nil at the end of the layout), and
    /// where the text after it starts.
    static func nextChunk(_ l: [UInt8], from start: Int) -> (prefixEnd: Int, token: Token?, next: Int) {
        let n = l.count
        func has(_ i: Int, _ s: StaticString) -> Bool {
            let count = s.utf8CodeUnitCount
            guard i + count <= n else { return false }
            let p = s.utf8Start
            for k in 0..<count where l[i + k] != p[k] { return false }
            return true
        }
        func lowerAt(_ i: Int) -> Bool { i < n && l[i] >= 0x61 && l[i] <= 0x7A }
        func digitAt(_ i: Int) -> Bool { i < n && l[i] >= 0x30 && l[i] <= 0x39 }
        func tok(_ e: Element) -> Token { Token(element: e) }

        var i = start
        while i < n {
            switch l[i] {
            case UInt8(ascii: "J"):  // January, Jan
                if has(i, "Jan") {
                    if has(i, "January") { return (i, tok(.longMonth), i + 7) }
                    if !lowerAt(i + 3) { return (i, tok(.month), i + 3) }
                }
            case UInt8(ascii: "M"):  // Monday, Mon, MST
                if i + 3 <= n {
                    if has(i, "Mon") {
                        if has(i, "Monday") { return (i, tok(.longWeekDay), i + 6) }
                        if !lowerAt(i + 3) { return (i, tok(.weekDay), i + 3) }
                    }
                    if has(i, "MST") { return (i, tok(.tz), i + 3) }
                }
            case UInt8(ascii: "0"):  // 01, 02, 03, 04, 05, 06, 002
                if i + 2 <= n, l[i + 1] >= UInt8(ascii: "1"), l[i + 1] <= UInt8(ascii: "6") {
                    return (i, tok(zeroX[Int(l[i + 1] - UInt8(ascii: "1"))]), i + 2)
                }
                if i + 3 <= n, l[i + 1] == UInt8(ascii: "0"), l[i + 2] == UInt8(ascii: "2") {
                    return (i, tok(.zeroYearDay), i + 3)
                }
            case UInt8(ascii: "1"):  // 15, 1
                if i + 2 <= n, l[i + 1] == UInt8(ascii: "5") { return (i, tok(.hour), i + 2) }
                return (i, tok(.numMonth), i + 1)
            case UInt8(ascii: "2"):  // 2006, 2
                if has(i, "2006") { return (i, tok(.longYear), i + 4) }
                return (i, tok(.day), i + 1)
            case UInt8(ascii: "_"):  // _2, _2006, __2
                if i + 2 <= n, l[i + 1] == UInt8(ascii: "2") {
                    // _2006 is a literal _ followed by the year.
                    if has(i + 1, "2006") { return (i + 1, tok(.longYear), i + 5) }
                    return (i, tok(.underDay), i + 2)
                }
                if i + 3 <= n, l[i + 1] == UInt8(ascii: "_"), l[i + 2] == UInt8(ascii: "2") {
                    return (i, tok(.underYearDay), i + 3)
                }
            case UInt8(ascii: "3"): return (i, tok(.hour12), i + 1)
            case UInt8(ascii: "4"): return (i, tok(.minute), i + 1)
            case UInt8(ascii: "5"): return (i, tok(.second), i + 1)
            case UInt8(ascii: "P"):  // PM
                if i + 2 <= n, l[i + 1] == UInt8(ascii: "M") { return (i, tok(.pm), i + 2) }
            case UInt8(ascii: "p"):  // pm
                if i + 2 <= n, l[i + 1] == UInt8(ascii: "m") { return (i, tok(.lowerPM), i + 2) }
            case UInt8(ascii: "-"):  // -070000, -07:00:00, -0700, -07:00, -07
                if has(i, "-070000") { return (i, tok(.numSecondsTZ), i + 7) }
                if has(i, "-07:00:00") { return (i, tok(.numColonSecondsTZ), i + 9) }
                if has(i, "-0700") { return (i, tok(.numTZ), i + 5) }
                if has(i, "-07:00") { return (i, tok(.numColonTZ), i + 6) }
                if has(i, "-07") { return (i, tok(.numShortTZ), i + 3) }
            case UInt8(ascii: "Z"):  // Z070000, Z07:00:00, Z0700, Z07:00, Z07
                if has(i, "Z070000") { return (i, tok(.iso8601SecondsTZ), i + 7) }
                if has(i, "Z07:00:00") { return (i, tok(.iso8601ColonSecondsTZ), i + 9) }
                if has(i, "Z0700") { return (i, tok(.iso8601TZ), i + 5) }
                if has(i, "Z07:00") { return (i, tok(.iso8601ColonTZ), i + 6) }
                if has(i, "Z07") { return (i, tok(.iso8601ShortTZ), i + 3) }
            case UInt8(ascii: "."), UInt8(ascii: ","):  // .000 .999 ,000 ,999: repeated digits
                if i + 1 < n, l[i + 1] == UInt8(ascii: "0") || l[i + 1] == UInt8(ascii: "9") {
                    let ch = l[i + 1]
                    var j = i + 1
                    while j < n && l[j] == ch { j += 1 }
                    // The run of digits must end here: only a fraction is all digits.
                    if !digitAt(j) {
                        let element: Element = ch == UInt8(ascii: "9") ? .fracSecond9 : .fracSecond0
                        return (i, Token(element: element, digits: (j - (i + 1)) & 0xFFF, separator: l[i]), j)
                    }
                }
            default:
                break
            }
            i += 1
        }
        return (n, nil, n)
    }
}

/// A timestamp's UTC calendar fields, as Go's formatter needs them.
struct CivilTime {
    var year: Int64
    var month: Int  // 1...12
    var day: Int  // 1...31
    var weekday: Int  // 0 = Sunday
    var hour: Int
    var minute: Int
    var second: Int
    var nanosecond: Int32
    var days: Int64

    init(_ t0: Timestamp) {
        let t = Civil.normalized(t0)
        let days = Civil.floorDiv(t.seconds, 86400)
        let secondOfDay = Int(t.seconds - days * 86400)
        let (y, m, d) = Timestamp.civil(fromDays: days)
        self.year = y
        self.month = Int(m)
        self.day = Int(d)
        self.weekday = Int(Civil.floorMod(days + 4, 7))  // 1970-01-01 was a Thursday
        self.hour = secondOfDay / 3600
        self.minute = secondOfDay / 60 % 60
        self.second = secondOfDay % 60
        self.nanosecond = t.nanoseconds
        self.days = days
    }

    /// The day of the year, from 1.
    var yearDay: Int {
        Int(days - Timestamp.days(fromCivil: year, 1, 1)) + 1
    }
}
