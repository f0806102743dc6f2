import Testing
@testable import Time

@Suite("Timestamps as Docker writes them")
struct TimestampTests {
    @Test("RFC 3339 with nanoseconds parses and prints back", arguments: [
        "2026-11-24T20:42:17.123456789Z", "1970-01-01T00:00:00.000000000Z", "2000-02-29T23:59:59.999999999Z",
    ])
    func roundTrip(text: String) throws {
        let t = try #require(Timestamp(rfc3339: text))
        #expect(t.description == text)
    }

    @Test("known instants")
    func known() {
        #expect(Timestamp(rfc3339: "1970-01-01T00:00:01Z") == Timestamp(seconds: 1, nanoseconds: 0))
        #expect(Timestamp(rfc3339: "2025-11-24T20:42:17.5Z") == Timestamp(seconds: 1_764_016_937, nanoseconds: 500_000_000))
        #expect(Timestamp(rfc3339: "2026-11-24T21:42:17.5+01:00") == Timestamp(rfc3339: "2026-11-24T20:42:17.5Z"))
    }

    @Test("since takes seconds and nine digits of nanoseconds")
    func since() {
        #expect(Timestamp(seconds: 1_764_016_937, nanoseconds: 42).sinceParameter == "1764016937.000000042")
    }

    @Test("order is by seconds, then nanoseconds")
    func order() {
        #expect(Timestamp(seconds: 1, nanoseconds: 999) < Timestamp(seconds: 2, nanoseconds: 0))
        #expect(Timestamp(seconds: 2, nanoseconds: 1) < Timestamp(seconds: 2, nanoseconds: 2))
    }

    @Test("what is not RFC 3339 is rejected", arguments: [
        "", "2026-11-24", "2026-13-24T20:42:17Z", "2026-11-24T20:42:17", "2026-11-24T20:42:17.Z", "2026-11-24T20:42:17Zjunk",
        "abcd-11-24T20:42:17Z",
    ])
    func rejected(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }
}
