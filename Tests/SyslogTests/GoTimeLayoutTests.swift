import Testing
import Time
@testable import Syslog

/// A timestamp from RFC 3339 text (the tests only pass valid text).
func ts(_ text: String) -> Timestamp {
    guard let t = Timestamp(rfc3339: text) else { fatalError("bad test time \(text)") }
    return t
}

// Go's layout constants (time/format.go).
let ansic = "Mon Jan _2 15:04:05 2006"
let unixDate = "Mon Jan _2 15:04:05 MST 2006"
let rubyDate = "Mon Jan 02 15:04:05 -0700 2006"
let rfc822 = "02 Jan 06 15:04 MST"
let rfc822Z = "02 Jan 06 15:04 -0700"
let rfc850 = "Monday, 02-Jan-06 15:04:05 MST"
let rfc1123 = "Mon, 02 Jan 2006 15:04:05 MST"
let rfc1123Z = "Mon, 02 Jan 2006 15:04:05 -0700"
let rfc3339 = "2006-01-02T15:04:05Z07:00"
let rfc3339Nano = "2006-01-02T15:04:05.999999999Z07:00"
let kitchen = "3:04PM"
let stamp = "Jan _2 15:04:05"
let stampMilli = "Jan _2 15:04:05.000"
let stampMicro = "Jan _2 15:04:05.000000"
let stampNano = "Jan _2 15:04:05.000000000"
let dateTime = "2006-01-02 15:04:05"
let dateOnly = "2006-01-02"
let timeOnly = "15:04:05"
let referenceLayout = "01/02 03:04:05PM '06 -0700"

@Suite("Go reference-time layouts")
struct GoTimeLayoutTests {
    @Test("Go's layout constants at 2009-11-10T23:00:00Z", arguments: [
        (ansic, "Tue Nov 10 23:00:00 2009"),
        (unixDate, "Tue Nov 10 23:00:00 UTC 2009"),
        (rubyDate, "Tue Nov 10 23:00:00 +0000 2009"),
        (rfc822, "10 Nov 09 23:00 UTC"),
        (rfc822Z, "10 Nov 09 23:00 +0000"),
        (rfc850, "Tuesday, 10-Nov-09 23:00:00 UTC"),
        (rfc1123, "Tue, 10 Nov 2009 23:00:00 UTC"),
        (rfc1123Z, "Tue, 10 Nov 2009 23:00:00 +0000"),
        (rfc3339, "2009-11-10T23:00:00Z"),
        (rfc3339Nano, "2009-11-10T23:00:00Z"),
        (kitchen, "11:00PM"),
        (stamp, "Nov 10 23:00:00"),
        (stampMilli, "Nov 10 23:00:00.000"),
        (stampMicro, "Nov 10 23:00:00.000000"),
        (stampNano, "Nov 10 23:00:00.000000000"),
        (dateTime, "2009-11-10 23:00:00"),
        (dateOnly, "2009-11-10"),
        (timeOnly, "23:00:00"),
        (referenceLayout, "11/10 11:00:00PM '09 +0000"),
    ])
    func goPlayground(layout: String, expected: String) {
        #expect(GoTimeLayout(layout).format(ts("2009-11-10T23:00:00Z")) == expected)
    }

    @Test("Go's layout constants at 2026-11-24T08:05:03.0123456Z", arguments: [
        (ansic, "Tue Nov 24 08:05:03 2026"),
        (unixDate, "Tue Nov 24 08:05:03 UTC 2026"),
        (rubyDate, "Tue Nov 24 08:05:03 +0000 2026"),
        (rfc822, "24 Nov 26 08:05 UTC"),
        (rfc822Z, "24 Nov 26 08:05 +0000"),
        (rfc850, "Tuesday, 24-Nov-26 08:05:03 UTC"),
        (rfc1123, "Tue, 24 Nov 2026 08:05:03 UTC"),
        (rfc1123Z, "Tue, 24 Nov 2026 08:05:03 +0000"),
        (rfc3339, "2026-11-24T08:05:03Z"),
        (rfc3339Nano, "2026-11-24T08:05:03.0123456Z"),
        (kitchen, "8:05AM"),
        (stamp, "Nov 24 08:05:03"),
        (stampMilli, "Nov 24 08:05:03.012"),
        (stampMicro, "Nov 24 08:05:03.012345"),
        (stampNano, "Nov 24 08:05:03.012345600"),
        (dateTime, "2026-11-24 08:05:03"),
        (dateOnly, "2026-11-24"),
        (timeOnly, "08:05:03"),
        (referenceLayout, "11/24 08:05:03AM '26 +0000"),
        // Go's Time.String layout.
        ("2006-01-02 15:04:05.999999999 -0700 MST", "2026-11-24 08:05:03.0123456 +0000 UTC"),
    ])
    func withNanoseconds(layout: String, expected: String) {
        #expect(GoTimeLayout(layout).format(ts("2026-11-24T08:05:03.012345600Z")) == expected)
    }

    /// Go's own TestFormat table (time/format_test.go), whose instant is
    /// Thu Feb 4 21:00:57.0123456 PST 2009, here in UTC: Thu Feb 5 05:00:57.0123456.
    @Test("Go's TestFormat table, in UTC", arguments: [
        (ansic, "Thu Feb  5 05:00:57 2009"),
        (unixDate, "Thu Feb  5 05:00:57 UTC 2009"),
        (rubyDate, "Thu Feb 05 05:00:57 +0000 2009"),
        (rfc822, "05 Feb 09 05:00 UTC"),
        (rfc850, "Thursday, 05-Feb-09 05:00:57 UTC"),
        (rfc1123, "Thu, 05 Feb 2009 05:00:57 UTC"),
        (rfc1123Z, "Thu, 05 Feb 2009 05:00:57 +0000"),
        (rfc3339, "2009-02-05T05:00:57Z"),
        (rfc3339Nano, "2009-02-05T05:00:57.0123456Z"),
        (kitchen, "5:00AM"),
        ("3pm", "5am"),
        ("3PM", "5AM"),
        ("06 01 02", "09 02 05"),
        // Three-letter months and days must not be followed by a lower-case letter.
        ("Hi Janet, the Month is January", "Hi Janet, the Month is February"),
        (stamp, "Feb  5 05:00:57"),
        (stampMilli, "Feb  5 05:00:57.012"),
        (stampMicro, "Feb  5 05:00:57.012345"),
        (stampNano, "Feb  5 05:00:57.012345600"),
        ("Jan  2 002 __2 2", "Feb  5 036  36 5"),
    ])
    func goFormatTable(layout: String, expected: String) {
        let t = Timestamp(seconds: 1_233_810_057, nanoseconds: 12_345_600)
        #expect(GoTimeLayout(layout).format(t) == expected)
    }

    @Test("the reference time formats as its own layout, in UTC", arguments: [
        (ansic, "Mon Jan  2 15:04:05 2006"),
        (unixDate, "Mon Jan  2 15:04:05 UTC 2006"),
        (rfc3339, "2006-01-02T15:04:05Z"),
        (kitchen, "3:04PM"),
        (referenceLayout, "01/02 03:04:05PM '06 +0000"),
        ("2006-01-02T15:04:05MST", "2006-01-02T15:04:05UTC"),
    ])
    func referenceTime(layout: String, expected: String) {
        #expect(GoTimeLayout(layout).format(ts("2006-01-02T15:04:05Z")) == expected)
    }

    @Test("every element and Go's tokenizer quirks", arguments: [
        // Years, months, days, weekdays.
        ("2006 06", "2026 26"), ("01 1 Jan January", "11 11 Nov November"), ("02 2 _2", "24 24 24"),
        ("002 __2", "328 328"), ("Mon Monday", "Tue Tuesday"),
        // Hours, minutes, seconds, AM/PM.
        ("15 03 3 04 4 05 5", "08 08 8 05 5 03 3"), ("PM pm", "AM am"),
        // Zones: UTC, so Z forms give Z and numeric forms +00….
        ("MST", "UTC"), ("-0700", "+0000"), ("-07:00", "+00:00"), ("-07", "+00"), ("-070000", "+000000"),
        ("-07:00:00", "+00:00:00"), ("Z0700", "Z"), ("Z07:00", "Z"), ("Z07", "Z"), ("Z070000", "Z"), ("Z07:00:00", "Z"),
        // Fractions: 0s keep zeros, 9s trim them, either separator, 1 to 9 digits (more give 9).
        ("05.0", "03.0"), ("05.00", "03.01"), ("05.000000000", "03.012345600"), ("05.0000000000", "03.012345600"),
        ("05.9", "03"), ("05.99", "03.01"), ("05.9999999", "03.0123456"), ("05.999999999", "03.0123456"),
        ("05,000", "03,012"), ("05,999999", "03,012345"),
        // A fraction needs a run of one digit followed by a non-digit; it needs no seconds before it.
        (".000", ".012"), ("x.99y", "x.01y"), ("2006.01.02.15.04.05.0", "2026.11.24.08.05.03.0"),
        ("05.0001", "03.0011"), ("05.09", "03.09"), ("05.90", "03.90"),
        // Not elements: copied literally.
        ("Janet", "Janet"), ("Month", "Month"), ("Mond", "Mond"), ("T", "T"), ("6 7 8 9 0", "6 7 8 9 0"),
        ("-08", "-08"), ("Z08", "Z08"), ("P M", "P M"), ("MS", "MS"), ("Ja", "Ja"), ("_", "_"), ("__", "__"),
        ("日本", "日本"), ("", ""),
        // Precedence: a 1 is a month unless followed by 5; 2 is a day unless 2006; _2006 is _ and a year.
        ("10", "110"), ("152", "0824"), ("20062", "202624"), ("_2006", "_2026"), ("__2006", "328026"),
        ("_20", "240"), ("0002", "0328"), ("Mon-07", "Tue+00"), ("January2", "November24"), ("MSTMon", "UTCTue"),
        ("-0700-07", "+0000+00"), ("-07:0", "+00:0"), ("Z07:0", "Z:0"),
    ])
    func elements(layout: String, expected: String) {
        #expect(GoTimeLayout(layout).format(ts("2026-11-24T08:05:03.012345600Z")) == expected)
    }

    @Test("12-hour clock: midnight is 12AM, noon is 12PM", arguments: [
        ("2026-01-01T00:00:00Z", "12 12 AM am"), ("2026-01-01T12:00:00Z", "12 12 PM pm"),
        ("2026-01-01T13:00:00Z", "1 01 PM pm"), ("2026-01-01T11:59:59Z", "11 11 AM am"),
    ])
    func twelveHours(time: String, expected: String) {
        #expect(GoTimeLayout("3 03 PM pm").format(ts(time)) == expected)
    }

    @Test("single digits and padding (Go issue 12440)")
    func singleDigits() {
        #expect(GoTimeLayout("3:4:5").format(ts("2001-02-03T04:05:06.7Z")) == "4:5:6")
        #expect(GoTimeLayout("1/2 _2 002 __2").format(ts("2000-01-05T00:00:00Z")) == "1/5  5 005   5")
        #expect(GoTimeLayout("Mon Monday").format(ts("2000-01-05T00:00:00Z")) == "Wed Wednesday")
        #expect(GoTimeLayout("002 __2").format(ts("2024-12-31T00:00:00Z")) == "366 366")
    }

    @Test("a zero fraction: 9s drop the separator, 0s keep the zeros")
    func zeroFraction() {
        let t = ts("2026-11-24T08:05:03Z")
        #expect(GoTimeLayout("05.999").format(t) == "03")
        #expect(GoTimeLayout("05,9").format(t) == "03")
        #expect(GoTimeLayout("05.000").format(t) == "03.000")
        // Nonzero nanoseconds whose first digits are zero: 9s trim down to nothing.
        let tiny = Timestamp(seconds: t.seconds, nanoseconds: 5)
        #expect(GoTimeLayout("05.999").format(tiny) == "03")
        #expect(GoTimeLayout("05.999999999").format(tiny) == "03.000000005")
    }

    /// Go's TestFormatShortYear: years are at least four digits, with a sign when negative.
    @Test("years of any length, as Go writes them", arguments: [
        (-100_001, "-100001.01.01 01"), (-10000, "-10000.01.01 00"), (-9999, "-9999.01.01 99"),
        (-1001, "-1001.01.01 01"), (-999, "-0999.01.01 99"), (-101, "-0101.01.01 01"), (-99, "-0099.01.01 99"),
        (-11, "-0011.01.01 11"), (-9, "-0009.01.01 09"), (-1, "-0001.01.01 01"), (0, "0000.01.01 00"),
        (1, "0001.01.01 01"), (9, "0009.01.01 09"), (99, "0099.01.01 99"), (100, "0100.01.01 00"),
        (999, "0999.01.01 99"), (1000, "1000.01.01 00"), (9999, "9999.01.01 99"), (10000, "10000.01.01 00"),
        (100_001, "100001.01.01 01"),
    ])
    func shortYear(year: Int64, expected: String) {
        let t = Timestamp(seconds: Timestamp.days(fromCivil: year, 1, 1) * 86400, nanoseconds: 0)
        #expect(GoTimeLayout("2006.01.02 06").format(t) == expected)
    }

    @Test("times before 1970")
    func beforeEpoch() {
        #expect(GoTimeLayout(rfc3339Nano).format(ts("1969-12-31T23:59:59.5Z")) == "1969-12-31T23:59:59.5Z")
        #expect(GoTimeLayout(ansic).format(ts("1900-03-01T00:00:00Z")) == "Thu Mar  1 00:00:00 1900")
        // Out-of-range nanoseconds are carried into the seconds.
        #expect(GoTimeLayout(rfc3339Nano).format(Timestamp(seconds: 0, nanoseconds: -1)) == "1969-12-31T23:59:59.999999999Z")
    }

    /// Go's TestNextStdChunk: each element found, in parentheses.
    @Test("Go's nextStdChunk table", arguments: [
        "(2006)-(01)-(02)T(15):(04):(05)(Z07:00)",
        "(2006)-(01)-(02) (002) (15):(04):(05)",
        "(2006)-(01) (002) (15):(04):(05)",
        "(2006)-(002) (15):(04):(05)",
        "(2006)(002)(01) (15):(04):(05)",
        "(2006)(002)(04) (15):(04):(05)",
        "(Jan) (_2) (15):(04):(05)(.000) (Monday) (MST) (-07:00:00) (,999)",
        "_(2006) (__2) Janet Month (PM)(pm)",
    ])
    func chunks(marked: String) {
        let names: [GoTimeLayout.Element: String] = [
            .longMonth: "January", .month: "Jan", .numMonth: "1", .zeroMonth: "01", .longWeekDay: "Monday",
            .weekDay: "Mon", .day: "2", .underDay: "_2", .zeroDay: "02", .underYearDay: "__2", .zeroYearDay: "002",
            .hour: "15", .hour12: "3", .zeroHour12: "03", .minute: "4", .zeroMinute: "04", .second: "5",
            .zeroSecond: "05", .longYear: "2006", .year: "06", .pm: "PM", .lowerPM: "pm", .tz: "MST",
            .iso8601TZ: "Z0700", .iso8601SecondsTZ: "Z070000", .iso8601ShortTZ: "Z07", .iso8601ColonTZ: "Z07:00",
            .iso8601ColonSecondsTZ: "Z07:00:00", .numTZ: "-0700", .numSecondsTZ: "-070000", .numShortTZ: "-07",
            .numColonTZ: "-07:00", .numColonSecondsTZ: "-07:00:00",
        ]
        let layout = GoTimeLayout(marked.filter { $0 != "(" && $0 != ")" })
        var out = ""
        for chunk in layout.chunks {
            switch chunk {
            case .literal(let s, let e):
                out += String(decoding: layout.literals[s..<e], as: UTF8.self)
            case .token(let t):
                if t.element == .fracSecond0 || t.element == .fracSecond9 {
                    let digit: Character = t.element == .fracSecond0 ? "0" : "9"
                    out += "(" + String(UnicodeScalar(t.separator)) + String(repeating: digit, count: t.digits) + ")"
                } else {
                    out += "(" + (names[t.element] ?? "?") + ")"
                }
            }
        }
        #expect(out == marked)
    }

    @Test("append adds to what is there; the named layouts")
    func appendAndConstants() {
        var out: [UInt8] = Array("x ".utf8)
        GoTimeLayout.stamp.append(ts("2026-11-04T20:42:17.9Z"), to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "x Nov  4 20:42:17")
        #expect(GoTimeLayout.deisDefault.format(ts("2026-11-24T20:42:17Z")) == "2026-11-24T20:42:17UTC")
        #expect(GoTimeLayout.deisDefault == GoTimeLayout("2006-01-02T15:04:05MST"))
        #expect(GoTimeLayout.stamp != GoTimeLayout.deisDefault)
        #expect(GoTimeLayout.stamp.layout == "Jan _2 15:04:05")
    }
}
