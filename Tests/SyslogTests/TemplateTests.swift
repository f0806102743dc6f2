import Records
import Testing
import Time
@testable import Syslog

@Suite("logspout's templates (SYSLOG_HOSTNAME, SYSLOG_TAG, SYSLOG_STRUCTURED_DATA)")
struct TemplateTests {
    static let c = Container(id: "8713470e0e2c" + String(repeating: "ab", count: 26), name: "shop_web_1",
                             image: "nginx:1.27", hostname: "8713470e0e2c", pid: 18441,
                             labels: ["com.docker.compose.service": "web", "team": "db", "a key": "spaced"])

    @Test("every container field", arguments: [
        ("{{.ContainerName}}", "shop_web_1"),
        ("{{.Container.Name}}", "/shop_web_1"),
        ("{{.Container.ID}}", "8713470e0e2c" + String(repeating: "ab", count: 26)),
        ("{{.Container.Config.Hostname}}", "8713470e0e2c"),
        ("{{.Container.Config.Image}}", "nginx:1.27"),
        ("{{.Container.State.Pid}}", "18441"),
        ("{{.Container.Config.Labels.team}}", "db"),
        (#"{{index .Container.Config.Labels "com.docker.compose.service"}}"#, "web"),
        ("{{ index .Container.Config.Labels `a key` }}", "spaced"),
        (#"{{index .Container.Config.Labels "missing"}}"#, ""),
        ("{{.Hostname}}", "HOST"),
        ("app-{{.ContainerName}}.{{.Container.Config.Labels.team}}", "app-shop_web_1.db"),
        ("plain text, no action", "plain text, no action"),
        ("a {{- .ContainerName -}} b", "ashop_web_1b"),
        ("{ {.ContainerName}} }", "{ {.ContainerName}} }"),
    ])
    func fields(template: String, value: String) throws {
        #expect(try ContainerTemplate(template).render(Self.c, host: "HOST") == value)
    }

    @Test("what cannot be evaluated per container is refused, naming itself", arguments: [
        ("{{.Data}}", "{{.Data}} is not supported here"),
        ("x {{.ContainerName", "an action '{{' without its '}}'"),
        ("{{.Container.Config.Labels.a-b}}", "{{.Container.Config.Labels.a-b}} is not supported here"),
        (#"{{index .Container.Config.Labels "unterminated}}"#, "is not supported here"),
        ("{{printf \"%s\" .ContainerName}}", "is not supported here"),
    ])
    func refused(template: String, fragment: String) {
        #expect {
            try ContainerTemplate(template)
        } throws: { error in
            (error as? TemplateError)?.message.contains(fragment) == true
                && (error as? TemplateError)?.message.hasPrefix("'\(template)': ") == true
        }
    }

    func message(_ options: SyslogOptions, format: SyslogFormat = .rfc5424, appendTag: String = "",
                 sd: ContainerTemplate? = nil) -> String {
        var f = SyslogFormatter(options: options)
        var out: [UInt8] = []
        let record = Record(time: "2026-11-24T20:42:17.123456789Z", source: .stdout, data: "GET / 200", container: Self.c)
        f.append(record, format: format, appendTag: appendTag, structuredData: sd, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test("SYSLOG_TAG replaces the name and append_tag (rfc5424, rfc3164), not deis's tag; SYSLOG_HOSTNAME too")
    func inMessages() throws {
        let o = try SyslogOptions(hostname: "{{.Container.Config.Image}}",
                                  tag: #"{{index .Container.Config.Labels "com.docker.compose.service"}}"#)
        #expect(message(o, appendTag: ".x") == "<14>1 2026-11-24T20:42:17.123456Z nginx:1.27 web 18441 - - GET / 200")
        #expect(message(o, format: .rfc3164) == "<14>Nov 24 20:42:17 nginx_1.27 web[18441]: GET / 200")
        #expect(message(o, format: .deis).hasSuffix(" shop_web_1[1]: GET / 200"))
    }

    @Test("a route's structured_data takes the place of SYSLOG_STRUCTURED_DATA, both templates")
    func structuredData() throws {
        let o = try SyslogOptions(structuredData: #"token@41058 tag="{{.ContainerName}}""#)
        #expect(message(o) == #"<14>1 2026-11-24T20:42:17.123456Z 8713470e0e2c shop_web_1 18441 - [token@41058 tag="shop_web_1"] GET / 200"#)
        let route = try ContainerTemplate(#"[other@41058 team="{{.Container.Config.Labels.team}}"]"#)
        #expect(message(o, sd: route) == #"<14>1 2026-11-24T20:42:17.123456Z 8713470e0e2c shop_web_1 18441 - [other@41058 team="db"] GET / 200"#)
        // The header cache keeps the two apart.
        var f = SyslogFormatter(options: o)
        var out: [UInt8] = []
        let record = Record(time: "2026-11-24T20:42:17Z", source: .stdout, data: "x", container: Self.c)
        f.append(record, format: .rfc5424, appendTag: "", into: &out)
        f.append(record, format: .rfc5424, appendTag: "", structuredData: route, into: &out)
        f.append(record, format: .rfc5424, appendTag: "", into: &out)
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.ranges(of: "token@41058").count == 2 && text.ranges(of: "other@41058").count == 1)
    }
}
