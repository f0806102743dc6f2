import Contract
import Syscall
import Testing
@testable import Emitter

@Suite("DNS SRV selection (RFC 2782)")
struct SRVTests {
    let records = [
        Sys.SRVRecord(priority: 20, weight: 0, port: 1, target: "backup"),
        Sys.SRVRecord(priority: 10, weight: 60, port: 2, target: "a"),
        Sys.SRVRecord(priority: 10, weight: 40, port: 3, target: "b"),
    ]

    @Test("the lowest priority wins; weights split the choice")
    func weighted() {
        #expect(selectSRV(records, random: { _ in 0 })?.target == "a")
        #expect(selectSRV(records, random: { _ in 60 })?.target == "a")
        #expect(selectSRV(records, random: { _ in 61 })?.target == "b")
        #expect(selectSRV(records, random: { $0 })?.target == "b")
        #expect(selectSRV([records[0]])?.target == "backup")
        #expect(selectSRV([]) == nil)
    }

    @Test("over many draws the split follows the weights")
    func distribution() {
        var a = 0
        for _ in 0..<10_000 where selectSRV(records)?.target == "a" { a += 1 }
        #expect((5500...6500).contains(a))
    }
}

@Suite("emit-syslog settings")
struct OptionsTests {
    @Test("environment values are read and checked")
    func environment() throws {
        let env = ["SYSLOG_FORMAT": "rfc3164", "SYSLOG_MAX_SIZE": "1024", "SYSLOG_TCP_FRAMING": "octet-counted",
                   "SYSLOG_BUFFER_SIZE": "65536", "SYSLOG_BUFFER_TOTAL": "1048576", "SYSLOG_RESOLVE_INTERVAL": "5"]
        let o = try EmitterOptions.fromEnvironment { env[$0] }.get()
        #expect(o.defaultFormat == .rfc3164 && o.maxDatagram == 1024 && o.framing == .octetCounted)
        #expect(o.bufferSize == 65536 && o.bufferTotal == 1 << 20 && o.resolveInterval == 5)
        #expect(EmitterOptions().bufferTotal == 64 << 20, "64 MiB by default")
        #expect(o.unhealthyAfter == 30 && o.maxLabelValues == 500, "the defaults")
        let health = try EmitterOptions.fromEnvironment { ["SYSLOG_UNHEALTHY_AFTER": "1", "METRICS_MAX_LABEL_VALUES": "0"][$0] }.get()
        #expect(health.unhealthyAfter == 1 && health.maxLabelValues == 0)
        #expect(throws: TargetError("SYSLOG_UNHEALTHY_AFTER 'soon' must be a whole number from 1 to 86400")) {
            try EmitterOptions.fromEnvironment { $0 == "SYSLOG_UNHEALTHY_AFTER" ? "soon" : nil }.get()
        }
        #expect(throws: TargetError("METRICS_MAX_LABEL_VALUES '-1' must be a whole number from 0 to 100000")) {
            try EmitterOptions.fromEnvironment { $0 == "METRICS_MAX_LABEL_VALUES" ? "-1" : nil }.get()
        }
        #expect(throws: TargetError("MULTILINE_*: multiline match 'middle' is not one of first, last, nonfirst, nonlast")) {
            try EmitterOptions.fromEnvironment { $0 == "MULTILINE_MATCH" ? "middle" : nil }.get()
        }
        #expect(try EmitterOptions.fromEnvironment { $0 == "MULTILINE_FLUSH_AFTER" ? "20" : nil }.get().multilineEnvironment
                == ["MULTILINE_FLUSH_AFTER": "20"])
        for (k, v) in [("SYSLOG_FORMAT", "json"), ("SYSLOG_MAX_SIZE", "10"), ("SYSLOG_TCP_FRAMING", "x"), ("SYSLOG_RESOLVE_INTERVAL", "0"),
                       ("SYSLOG_BUFFER_TOTAL", "1000")] {
            #expect(throws: TargetError.self) { try EmitterOptions.fromEnvironment { $0 == k ? v : nil }.get() }
        }
    }

    @Test("LOGSPOUT_TLS_*: CA files, system roots, client certificate and key, hardening")
    func tls() throws {
        #expect(try EmitterOptions.fromEnvironment { _ in nil }.get().tls == TLSOptions())
        #expect(!TLSOptions().isCustomized)
        let env = ["LOGSPOUT_TLS_CA_CERTS": "/a.pem, /b.pem,", "LOGSPOUT_TLS_DISABLE_SYSTEM_ROOTS": "true",
                   "LOGSPOUT_TLS_CLIENT_CERT": "/c.pem", "LOGSPOUT_TLS_CLIENT_KEY": "/c.key", "LOGSPOUT_TLS_HARDENING": "TRUE"]
        let o = try EmitterOptions.fromEnvironment { env[$0] }.get().tls
        #expect(o.caFiles == ["/a.pem", "/b.pem"] && !o.systemRoots && o.clientCert == "/c.pem" && o.clientKey == "/c.key" && o.hardening)
        #expect(o.isCustomized)
        #expect(throws: TargetError("LOGSPOUT_TLS_CLIENT_CERT and LOGSPOUT_TLS_CLIENT_KEY go together: set both or neither")) {
            try EmitterOptions.fromEnvironment { $0 == "LOGSPOUT_TLS_CLIENT_CERT" ? "/c.pem" : nil }.get()
        }
        #expect(throws: TargetError("LOGSPOUT_TLS_HARDENING 'maybe' is neither true nor false")) {
            try EmitterOptions.fromEnvironment { $0 == "LOGSPOUT_TLS_HARDENING" ? "maybe" : nil }.get()
        }
    }

    @Test("a CA file that cannot be read is named with its variable")
    func unreadable() {
        var o = TLSOptions()
        o.caFiles = ["/nonexistent/ca.pem"]
        #expect(throws: TargetError("LOGSPOUT_TLS_CA_CERTS '/nonexistent/ca.pem': No such file or directory")) {
            try Emitter.makeTLSContext(o)
        }
    }
}
