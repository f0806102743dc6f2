import Records
import Testing
import Time
@testable import Syslog

let webID = "8713470e0e2cd7b0f7d6c2a1e5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6"
let clockTime = Timestamp(seconds: 1_795_552_937, nanoseconds: 500_000_000)  // 2026-11-24T20:42:17.5Z

func record(
    time: String = "2026-11-24T20:42:17.123456789Z", source: Source = .stdout, data: String = "GET / 200",
    name: String = "web", hostname: String = "8713470e0e2c", pid: Int = 18441, id: String = webID
) -> Record {
    Record(time: time, source: source, data: data,
           container: Container(id: id, name: name, image: "nginx:1.27", hostname: hostname, pid: pid))
}

/// The message for `record`, as text.
func message(
    _ record: Record, _ format: SyslogFormat = .rfc5424, appendTag: String = "",
    options: SyslogOptions = SyslogOptions()
) -> String {
    var formatter = SyslogFormatter(options: options, clock: { clockTime })
    var out: [UInt8] = []
    formatter.append(record, format: format, appendTag: appendTag, into: &out)
    return String(decoding: out, as: UTF8.self)
}

@Suite("RFC 5424 messages")
struct RFC5424Tests {
    @Test("stdout is user.info (14), stderr user.err (11)")
    func priority() {
        #expect(message(record()) == "<14>1 2026-11-24T20:42:17.123456Z 8713470e0e2c web 18441 - - GET / 200")
        #expect(message(record(source: .stderr)) == "<11>1 2026-11-24T20:42:17.123456Z 8713470e0e2c web 18441 - - GET / 200")
    }

    @Test("the record's time, in UTC with six fraction digits, truncated", arguments: [
        ("2026-11-24T20:42:17.123456789Z", "2026-11-24T20:42:17.123456Z"),
        ("2026-11-24T23:59:59.999999999Z", "2026-11-24T23:59:59.999999Z"),
        ("2026-11-24T20:42:17.0000009Z", "2026-11-24T20:42:17.000000Z"),
        ("2026-11-24T20:42:17.5Z", "2026-11-24T20:42:17.500000Z"),
        ("2026-11-24T20:42:17Z", "2026-11-24T20:42:17.000000Z"),
        ("2026-11-24T21:42:17.25+01:00", "2026-11-24T20:42:17.250000Z"),
        ("2026-01-01T00:30:00-01:00", "2026-01-01T01:30:00.000000Z"),
        ("2027-01-01T00:30:00+01:00", "2026-12-31T23:30:00.000000Z"),
        ("2024-02-29T12:00:00.000001Z", "2024-02-29T12:00:00.000001Z"),
        ("0000-01-01T00:00:00Z", "0000-01-01T00:00:00.000000Z"),
        ("9999-12-31T23:59:59.999999999Z", "9999-12-31T23:59:59.999999Z"),
        ("1969-12-31T23:59:59.999999Z", "1969-12-31T23:59:59.999999Z"),
        // RFC 5424 section 6.2.3.1's examples, in UTC.
        ("1985-04-12T23:20:50.52Z", "1985-04-12T23:20:50.520000Z"),
        ("1985-04-12T19:20:50.52-04:00", "1985-04-12T23:20:50.520000Z"),
        ("2003-10-11T22:14:15.003Z", "2003-10-11T22:14:15.003000Z"),
        ("2003-08-24T05:14:15.000003-07:00", "2003-08-24T12:14:15.000003Z"),
        // Invalid in RFC 5424 (more than six digits): cut to six.
        ("2003-08-24T05:14:15.000000003-07:00", "2003-08-24T12:14:15.000000Z"),
    ])
    func timestamp(time: String, expected: String) {
        #expect(message(record(time: time)) == "<14>1 \(expected) 8713470e0e2c web 18441 - - GET / 200")
    }

    @Test("a time that is not RFC 3339 gives the clock's time", arguments: [
        "", "yesterday", "2026-11-24T20:42:17", "2026-11-24 20:42", "2026-13-24T20:42:17Z",
    ])
    func badTime(time: String) {
        #expect(message(record(time: time)) == "<14>1 2026-11-24T20:42:17.500000Z 8713470e0e2c web 18441 - - GET / 200")
    }

    @Test("a year outside 0000–9999 is written as NILVALUE")
    func yearOutOfRange() {
        var formatter = SyslogFormatter(options: SyslogOptions())
        var out: [UInt8] = []
        let data = Array("x".utf8)
        let container = Container(id: webID, name: "web", hostname: "h", pid: 1)
        data.withUnsafeBytes {
            formatter.append(time: Timestamp(seconds: 253_402_300_800, nanoseconds: 0), source: .stdout, data: $0,
                             container: container, format: .rfc5424, appendTag: "", into: &out)
        }
        #expect(String(decoding: out, as: UTF8.self) == "<14>1 - h web 1 - - x")
    }

    @Test("SYSLOG_HOSTNAME replaces the container's hostname")
    func hostnameOverride() throws {
        #expect(message(record(), options: try SyslogOptions(hostname: "docker-01.example.com"))
            == "<14>1 2026-11-24T20:42:17.123456Z docker-01.example.com web 18441 - - GET / 200")
    }

    @Test("structured data: as given when bracketed, else bracketed; absent or empty is -", arguments: [
        (#"[token@41058 tag="x"]"#, #"[token@41058 tag="x"]"#),
        (#"token@41058 tag="x""#, #"[token@41058 tag="x"]"#),
        (#"[a@1 x="1"][b@2 y="2"]"#, #"[a@1 x="1"][b@2 y="2"]"#),
        (#"[open@1"#, #"[[open@1]"#),
        ("", "-"),
    ])
    func structuredData(given: String, field: String) throws {
        #expect(message(record(), options: try SyslogOptions(structuredData: given))
            == "<14>1 2026-11-24T20:42:17.123456Z 8713470e0e2c web 18441 - \(field) GET / 200")
    }

    @Test("append_tag follows the container name")
    func appendTag() {
        #expect(message(record(), appendTag: ".prod") == "<14>1 2026-11-24T20:42:17.123456Z 8713470e0e2c web.prod 18441 - - GET / 200")
    }

    @Test("empty fields and an unknown pid are NILVALUE")
    func nilValues() throws {
        #expect(message(record(name: "", hostname: "", pid: 0)) == "<14>1 2026-11-24T20:42:17.123456Z - - - - - GET / 200")
        #expect(message(record(name: "", hostname: "", pid: 0), options: try SyslogOptions(hostname: ""))
            == "<14>1 2026-11-24T20:42:17.123456Z - - - - - GET / 200")
        #expect(message(record(name: ""), appendTag: "-x") == "<14>1 2026-11-24T20:42:17.123456Z 8713470e0e2c -x 18441 - - GET / 200")
    }

    @Test("header characters outside PRINTUSASCII become _, one per character", arguments: [
        ("my host", "café", "my_host", "caf_"),
        ("tab\there", "naïve☃😀", "tab_here", "na_ve__"),
        ("x\u{7F}y", "a\u{0}b", "x_y", "a_b"),
        ("hôte.example", "e\u{301}", "h_te.example", "e_"),
    ])
    func printable(hostname: String, name: String, hostField: String, appField: String) {
        #expect(message(record(name: name, hostname: hostname))
            == "<14>1 2026-11-24T20:42:17.123456Z \(hostField) \(appField) 18441 - - GET / 200")
    }

    @Test("APP-NAME is cut at 48 characters, HOSTNAME at 255, counting characters")
    func lengths() {
        let ascii = String(repeating: "a", count: 60)
        #expect(message(record(name: ascii)).contains(" " + String(repeating: "a", count: 48) + " 18441 "))
        // Ten two-byte characters then letters: 48 characters, not 48 bytes.
        let accented = String(repeating: "é", count: 10) + String(repeating: "x", count: 50)
        #expect(message(record(name: accented))
            .contains(" " + String(repeating: "_", count: 10) + String(repeating: "x", count: 38) + " 18441 "))
        #expect(message(record(name: String(repeating: "😀", count: 50)))
            .contains(" " + String(repeating: "_", count: 48) + " 18441 "))
        // append_tag counts in the 48.
        #expect(message(record(name: String(repeating: "n", count: 46)), appendTag: ".tag")
            .contains(" " + String(repeating: "n", count: 46) + ".t 18441 "))
        let host = String(repeating: "h", count: 300)
        #expect(message(record(hostname: host)) == "<14>1 2026-11-24T20:42:17.123456Z \(String(repeating: "h", count: 255)) web 18441 - - GET / 200")
        #expect(message(record(hostname: String(repeating: "ü", count: 300)))
            == "<14>1 2026-11-24T20:42:17.123456Z \(String(repeating: "_", count: 255)) web 18441 - - GET / 200")
    }

    @Test("MSG is the data as UTF-8, without a BOM, whatever it holds")
    func messageBody() {
        #expect(message(record(data: "naïve ☃ 😀 \"q\" \\ \t tab")) == "<14>1 2026-11-24T20:42:17.123456Z 8713470e0e2c web 18441 - - naïve ☃ 😀 \"q\" \\ \t tab")
        #expect(message(record(data: "")) == "<14>1 2026-11-24T20:42:17.123456Z 8713470e0e2c web 18441 - - ")
    }

    /// RFC 5424 section 6.5, examples 2 to 4, with what this formatter sets
    /// differently: PRI (facility user), MSGID and PROCID (`-` here) and UTC.
    @Test("RFC 5424's own examples")
    func rfcExamples() throws {
        // Example 2: <165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.
        #expect(message(record(time: "2003-08-24T05:14:15.000003-07:00", data: "%% It's time to make the do-nuts.",
                               name: "myproc", hostname: "192.0.2.1", pid: 8710))
            == "<14>1 2003-08-24T12:14:15.000003Z 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.")
        // Example 3: …evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] BOMAn application…
        let sd = #"[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]"#
        #expect(message(record(time: "2003-10-11T22:14:15.003Z", data: "An application event log entry...",
                               name: "evntslog", hostname: "mymachine.example.com", pid: 0),
                        options: try SyslogOptions(structuredData: sd))
            == "<14>1 2003-10-11T22:14:15.003000Z mymachine.example.com evntslog - - \(sd) An application event log entry...")
        // Example 4: two SD elements, no MSG.
        let sd2 = #"[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]"#
        #expect(message(record(time: "2003-10-11T22:14:15.003Z", data: "", name: "evntslog",
                               hostname: "mymachine.example.com", pid: 0),
                        options: try SyslogOptions(structuredData: sd2))
            == "<14>1 2003-10-11T22:14:15.003000Z mymachine.example.com evntslog - - \(sd2) ")
    }
}

@Suite("RFC 3164 messages")
struct RFC3164Tests {
    @Test("<PRI>Jan _2 15:04:05 HOSTNAME TAG[PID]: MSG")
    func basic() {
        #expect(message(record(), .rfc3164) == "<14>Nov 24 20:42:17 8713470e0e2c web[18441]: GET / 200")
        #expect(message(record(source: .stderr), .rfc3164) == "<11>Nov 24 20:42:17 8713470e0e2c web[18441]: GET / 200")
        #expect(message(record(time: "2026-11-04T09:02:03.9Z"), .rfc3164) == "<14>Nov  4 09:02:03 8713470e0e2c web[18441]: GET / 200")
        #expect(message(record(time: "junk"), .rfc3164) == "<14>Nov 24 20:42:17 8713470e0e2c web[18441]: GET / 200")
    }

    @Test("DATETIME_FORMAT replaces the timestamp")
    func layout() throws {
        let options = try SyslogOptions(datetimeLayout: GoTimeLayout("2006-01-02T15:04:05.000Z07:00"))
        #expect(message(record(), .rfc3164, options: options) == "<14>2026-11-24T20:42:17.123Z 8713470e0e2c web[18441]: GET / 200")
    }

    @Test("hostname override, append_tag, unknown pid")
    func fields() throws {
        #expect(message(record(), .rfc3164, appendTag: "-x", options: try SyslogOptions(hostname: "node1"))
            == "<14>Nov 24 20:42:17 node1 web-x[18441]: GET / 200")
        #expect(message(record(pid: 0), .rfc3164) == "<14>Nov 24 20:42:17 8713470e0e2c web: GET / 200")
        #expect(message(record(name: ""), .rfc3164) == "<14>Nov 24 20:42:17 8713470e0e2c -[18441]: GET / 200")
    }

    @Test("HOSTNAME: letters, digits, . _ - ending with a letter or digit; else left out", arguments: [
        ("docker-01.example.com", "docker-01.example.com "), ("my host", "my_host "), ("hôte", "h_te "),
        ("host.", "host "), ("host_-.", "host "), ("a:b", "a_b "), ("", ""), ("-", ""), ("...", ""),
    ])
    func hostname(given: String, field: String) {
        #expect(message(record(hostname: given), .rfc3164) == "<14>Nov 24 20:42:17 \(field)web[18441]: GET / 200")
    }

    @Test("TAG: at most 32 characters; spaces, : [ ] / and non-ASCII become _")
    func tag() {
        #expect(message(record(name: String(repeating: "t", count: 40)), .rfc3164)
            == "<14>Nov 24 20:42:17 8713470e0e2c \(String(repeating: "t", count: 32))[18441]: GET / 200")
        #expect(message(record(name: String(repeating: "日", count: 40)), .rfc3164)
            == "<14>Nov 24 20:42:17 8713470e0e2c \(String(repeating: "_", count: 32))[18441]: GET / 200")
        #expect(message(record(name: "a b:c[d]e/f"), .rfc3164) == "<14>Nov 24 20:42:17 8713470e0e2c a_b_c_d_e_f[18441]: GET / 200")
        #expect(message(record(name: String(repeating: "n", count: 30)), .rfc3164, appendTag: ".tag")
            == "<14>Nov 24 20:42:17 8713470e0e2c \(String(repeating: "n", count: 30)).t[18441]: GET / 200")
    }
}

@Suite("Deis messages")
struct DeisTests {
    @Test("TIMESTAMP TAG[PROCID]: MSG, no PRI, for an app container", arguments: [
        ("myapp_v2.web.1", "myapp[web.1]"),
        ("go_v12.worker.10", "go[worker.10]"),
        ("my-app2_v1.cmd_x.3", "my-app2[cmd_x.3]"),
        ("a_v0.b-c.0", "a[b-c.0]"),
    ])
    func app(name: String, header: String) {
        #expect(message(record(name: name), .deis) == "2026-11-24T20:42:17UTC \(header): GET / 200")
        #expect(message(record(source: .stderr, name: name), .deis) == "2026-11-24T20:42:17UTC \(header): GET / 200")
    }

    @Test("any other container: its name and PROCID 1", arguments: [
        "web", "MyApp_v2.web.1", "myapp_v2.web", "myapp_2.web.1", "myapp_v.web.1", "myapp_v2.web.1x",
        "my_app_v2.web.1", "myapp_v2.Web.1", "myapp_v2..1", "_v2.web.1", "myapp_v2.web.", "myapp_v2.w3b.1",
    ])
    func other(name: String) {
        #expect(message(record(name: name), .deis) == "2026-11-24T20:42:17UTC \(name)[1]: GET / 200")
    }

    @Test("append_tag goes after the app name; DATETIME_FORMAT applies")
    func appendTagAndLayout() throws {
        #expect(message(record(name: "myapp_v2.web.1"), .deis, appendTag: ".x") == "2026-11-24T20:42:17UTC myapp.x[web.1]: GET / 200")
        #expect(message(record(name: "db"), .deis, appendTag: ".x") == "2026-11-24T20:42:17UTC db.x[1]: GET / 200")
        #expect(message(record(name: ""), .deis) == "2026-11-24T20:42:17UTC -[1]: GET / 200")
        let options = try SyslogOptions(datetimeLayout: GoTimeLayout(stamp))
        #expect(message(record(name: "myapp_v2.web.1"), .deis, options: options) == "Nov 24 20:42:17 myapp[web.1]: GET / 200")
    }

    @Test("deisName splits as Deis's expression does")
    func deisName() {
        #expect(SyslogFormatter.deisName("myapp_v2.web.1") == ("myapp", "web.1"))
        #expect(SyslogFormatter.deisName("web") == ("web", "1"))
        #expect(SyslogFormatter.deisName("") == ("", "1"))
    }
}

@Suite("The formatter over many records")
struct FormatterStateTests {
    @Test("messages are appended to what the buffer holds; one formatter serves every format")
    func appends() {
        var formatter = SyslogFormatter(options: SyslogOptions())
        var out: [UInt8] = Array("> ".utf8)
        formatter.append(record(), format: .rfc5424, appendTag: "", into: &out)
        out.append(0x0A)
        formatter.append(record(), format: .rfc3164, appendTag: "", into: &out)
        out.append(0x0A)
        formatter.append(record(), format: .deis, appendTag: "", into: &out)
        out.append(0x0A)
        formatter.append(record(), format: .rfc5424, appendTag: ".t", into: &out)
        #expect(String(decoding: out, as: UTF8.self) == """
            > <14>1 2026-11-24T20:42:17.123456Z 8713470e0e2c web 18441 - - GET / 200
            <14>Nov 24 20:42:17 8713470e0e2c web[18441]: GET / 200
            2026-11-24T20:42:17UTC web[1]: GET / 200
            <14>1 2026-11-24T20:42:17.123456Z 8713470e0e2c web.t 18441 - - GET / 200
            """)
    }

    @Test("a restarted or renamed container gets fresh header fields")
    func cacheKeys() {
        var formatter = SyslogFormatter(options: SyslogOptions())
        func one(_ r: Record) -> String {
            var out: [UInt8] = []
            formatter.append(r, format: .rfc5424, appendTag: "", into: &out)
            return String(decoding: out, as: UTF8.self)
        }
        #expect(one(record()) == "<14>1 2026-11-24T20:42:17.123456Z 8713470e0e2c web 18441 - - GET / 200")
        #expect(one(record(pid: 7)) == "<14>1 2026-11-24T20:42:17.123456Z 8713470e0e2c web 7 - - GET / 200")
        #expect(one(record(name: "web2", pid: 7)) == "<14>1 2026-11-24T20:42:17.123456Z 8713470e0e2c web2 7 - - GET / 200")
        #expect(one(record(hostname: "h2", pid: 7)) == "<14>1 2026-11-24T20:42:17.123456Z h2 web 7 - - GET / 200")
        #expect(one(record()) == "<14>1 2026-11-24T20:42:17.123456Z 8713470e0e2c web 18441 - - GET / 200")
    }

    @Test("many containers, interleaved, past every cache size, and changing times")
    func manyContainers() {
        var formatter = SyslogFormatter(options: SyslogOptions())
        var out: [UInt8] = []
        for round in 0..<2 {
            for i in 0..<(SyslogFormatter.tableLimit + 50) {
                let second = (i + round) % 60
                let time = "2026-11-24T20:42:\(second < 10 ? "0" : "")\(second).000001Z"
                let r = record(time: time, data: "line \(i)", name: "c\(i)", pid: i + 1, id: "id\(i)")
                for format in SyslogFormat.allCases {
                    out.removeAll(keepingCapacity: true)
                    formatter.append(r, format: format, appendTag: "", into: &out)
                    let s = String(decoding: out, as: UTF8.self)
                    let ss = second < 10 ? "0\(second)" : "\(second)"
                    let expected = switch format {
                    case .rfc5424: "<14>1 2026-11-24T20:42:\(ss).000001Z 8713470e0e2c c\(i) \(i + 1) - - line \(i)"
                    case .rfc3164: "<14>Nov 24 20:42:\(ss) 8713470e0e2c c\(i)[\(i + 1)]: line \(i)"
                    case .deis: "2026-11-24T20:42:\(ss)UTC c\(i)[1]: line \(i)"
                    }
                    if s != expected {
                        Issue.record("\(s) != \(expected)")
                        return
                    }
                }
            }
        }
    }

    @Test("times in any order through one formatter give what a fresh formatter gives")
    func timeCaches() throws {
        let times = [
            "2026-11-24T20:42:17.1Z", "2026-11-24T20:42:17Z", "2026-11-24T20:42:17.123456789Z",
            "2026-11-24T20:42:17.1234567891Z", "2026-11-24T20:42:17.Z", "2026-11-24T20:42:17.1x2Z",
            "2026-11-24T20:42:17.5+01:00", "2026-11-24T20:42:17.5z", "2026-11-24t20:42:17.5Z",
            "2026-11-24 20:42:17.5Z", "2026-11-24T20:42:18.000001Z", "2026-11-24T20:42:60Z", "2026-02-30T20:42:17Z",
            "2026-11-24T20:42:17", "junk", "", "2026-11-24T20:42:17.999999999Z", "1969-12-31T23:59:59.9Z",
        ]
        for format in SyslogFormat.allCases {
            for options in [SyslogOptions(), try SyslogOptions(datetimeLayout: GoTimeLayout(stampMicro))] {
                var shared = SyslogFormatter(options: options, clock: { clockTime })
                for pass in 0..<3 {
                    let order = pass == 1 ? times.reversed() : pass == 2 ? times.shuffled() : times
                    for time in order {
                        var out: [UInt8] = []
                        shared.append(record(time: time), format: format, appendTag: "", into: &out)
                        #expect(String(decoding: out, as: UTF8.self) == message(record(time: time), format, options: options),
                                "\(format) \(time)")
                    }
                }
            }
        }
        // Spot checks of what the fresh formatter gives.
        #expect(message(record(time: "2026-11-24T20:42:60Z")) == "<14>1 2026-11-24T20:43:00.000000Z 8713470e0e2c web 18441 - - GET / 200")
        #expect(message(record(time: "2026-02-30T20:42:17Z")) == "<14>1 2026-03-02T20:42:17.000000Z 8713470e0e2c web 18441 - - GET / 200")
        #expect(message(record(time: "2026-11-24T20:42:17.1234567891Z"), .rfc3164, options: try SyslogOptions(datetimeLayout: GoTimeLayout(stampNano)))
            == "<14>Nov 24 20:42:17.123456789 8713470e0e2c web[18441]: GET / 200")
    }

    @Test("the parts entry point writes what the record entry point writes")
    func parts() throws {
        var a = SyslogFormatter(options: try SyslogOptions(structuredData: "x@1"))
        var b = SyslogFormatter(options: try SyslogOptions(structuredData: "x@1"))
        for format in SyslogFormat.allCases {
            let r = record(source: .stderr, data: "naïve")
            var viaRecord: [UInt8] = []
            var viaParts: [UInt8] = []
            a.append(r, format: format, appendTag: ".t", into: &viaRecord)
            Array(r.data.utf8).withUnsafeBytes {
                b.append(time: ts(r.time), source: r.source, data: $0, container: r.container, format: format,
                         appendTag: ".t", into: &viaParts)
            }
            #expect(viaRecord == viaParts)
        }
    }

    @Test("a record's time given as its text gives what the record gives, a time that is not RFC 3339 included")
    func timeText() throws {
        let clock: @Sendable () -> Timestamp = { Timestamp(seconds: 1_795_000_000, nanoseconds: 5_000) }
        var a = SyslogFormatter(options: SyslogOptions(), clock: clock)
        var b = SyslogFormatter(options: SyslogOptions(), clock: clock)
        let times = ["2026-11-24T20:42:17.123456789Z", "2026-11-24T20:42:17.9Z", "2026-11-24T20:42:18Z",
                     "2026-11-24T21:42:17.5+01:00", "yesterday", ""]
        for format in SyslogFormat.allCases {
            for time in times {
                let r = record(time: time, source: .stdout, data: "GET / 200")
                var viaRecord: [UInt8] = []
                var viaText: [UInt8] = []
                a.append(r, format: format, appendTag: "", into: &viaRecord)
                Array(r.time.utf8).withUnsafeBytes { t in
                    Array(r.data.utf8).withUnsafeBytes {
                        b.append(timeText: t, source: r.source, data: $0, container: r.container, format: format,
                                 appendTag: "", into: &viaText)
                    }
                }
                #expect(viaRecord == viaText, "\(format) \(time)")
            }
        }
    }
}

@Suite("Options")
struct OptionsTests {
    @Test("from the environment; empty values count as unset")
    func environment() throws {
        let env = ["SYSLOG_HOSTNAME": "node1", "SYSLOG_TAG": "{{.Container.Config.Image}}",
                   "SYSLOG_STRUCTURED_DATA": "a@1 b=\"c\"", "DATETIME_FORMAT": "15:04"]
        let options = try SyslogOptions.fromEnvironment { env[$0] }
        #expect(options.hostname?.description == "node1" && options.hostname?.isPlain == true)
        #expect(options.tag?.description == "{{.Container.Config.Image}}" && options.tag?.isPlain == false)
        #expect(options.structuredData?.description == "a@1 b=\"c\"")
        #expect(options.datetimeLayout == GoTimeLayout("15:04"))
        let empty = ["SYSLOG_HOSTNAME": "", "SYSLOG_TAG": "", "SYSLOG_STRUCTURED_DATA": "", "DATETIME_FORMAT": ""]
        let none = try SyslogOptions.fromEnvironment { empty[$0] }
        #expect(none.hostname == nil && none.tag == nil && none.structuredData == nil && none.datetimeLayout == nil)
        let unset = try SyslogOptions.fromEnvironment { _ in nil }
        #expect(unset.hostname == nil && unset.tag == nil && unset.structuredData == nil && unset.datetimeLayout == nil)
        #expect(throws: TemplateError.self) { try SyslogOptions.fromEnvironment { $0 == "SYSLOG_TAG" ? "{{.Data}}" : nil } }
    }

    @Test("format names", arguments: [("rfc5424", SyslogFormat.rfc5424), ("rfc3164", .rfc3164), ("deis", .deis)])
    func formats(name: String, format: SyslogFormat) {
        #expect(SyslogFormat(rawValue: name) == format)
        #expect(format.rawValue == name)
    }
}
