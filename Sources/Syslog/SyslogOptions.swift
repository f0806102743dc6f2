/// The message layouts logspout's syslog adapter writes (`SYSLOG_FORMAT`, or a route's `format`).
public enum SyslogFormat: String, Sendable, CaseIterable {
    /// `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID - SD MSG` (RFC 5424). The default.
    case rfc5424
    /// `<PRI>TIMESTAMP HOSTNAME TAG[PID]: MSG` (RFC 3164, BSD syslog).
    case rfc3164
    /// `TIMESTAMP TAG[PROCID]: MSG`, as Deis's logspout wrote it for the Deis logger.
    case deis
}

/// Settings that apply to every message (see docs/syslog.md).
public struct SyslogOptions: Sendable {
    /// `SYSLOG_HOSTNAME`: the HOSTNAME of every message instead of the container's hostname; a
    /// `ContainerTemplate` (plain text, or e.g. `{{.Container.Config.Image}}`).
    public var hostname: ContainerTemplate?
    /// `SYSLOG_TAG`: the APP-NAME (rfc5424) or TAG (rfc3164) instead of the container's name and the
    /// route's `append_tag` (as in logspout, where it replaces both), e.g.
    /// `{{index .Container.Config.Labels "com.docker.compose.service"}}`.
    public var tag: ContainerTemplate?
    /// `SYSLOG_STRUCTURED_DATA`: the SD field of RFC 5424 messages, such as
    /// `[token@41058 tag="x"]`. Written as given, but put inside `[` `]` when it
    /// does not both start with `[` and end with `]` (logspout always added
    /// them). Nil or empty: `-`. A route's `structured_data` takes its place.
    public var structuredData: ContainerTemplate?
    /// `DATETIME_FORMAT`: a Go layout for the rfc3164 timestamp (instead of
    /// `Jan _2 15:04:05`) and the deis timestamp (instead of
    /// `2006-01-02T15:04:05MST`). RFC 5424 fixes its own timestamp.
    public var datetimeLayout: GoTimeLayout?

    public init(hostname: String? = nil, tag: String? = nil, structuredData: String? = nil,
                datetimeLayout: GoTimeLayout? = nil) throws(TemplateError) {
        self.hostname = try hostname.map { (t) throws(TemplateError) in try ContainerTemplate(t) }
        self.tag = try tag.map { (t) throws(TemplateError) in try ContainerTemplate(t) }
        self.structuredData = try structuredData.map { (t) throws(TemplateError) in try ContainerTemplate(t) }
        self.datetimeLayout = datetimeLayout
    }

    public init() {}

    /// The options from `SYSLOG_HOSTNAME`, `SYSLOG_TAG`, `SYSLOG_STRUCTURED_DATA` and `DATETIME_FORMAT`,
    /// read with `get`; a variable set to the empty string counts as unset (as in logspout). A template
    /// that cannot be evaluated is an error naming its variable.
    public static func fromEnvironment(_ get: (String) -> String?) throws(TemplateError) -> SyslogOptions {
        func value(_ name: String) throws(TemplateError) -> ContainerTemplate? {
            guard let v = get(name), !v.isEmpty else { return nil }
            do { return try ContainerTemplate(v) } catch { throw TemplateError("\(name) \(error.message)") }
        }
        var o = SyslogOptions()
        o.hostname = try value("SYSLOG_HOSTNAME")
        o.tag = try value("SYSLOG_TAG")
        o.structuredData = try value("SYSLOG_STRUCTURED_DATA")
        if let layout = get("DATETIME_FORMAT"), !layout.isEmpty { o.datetimeLayout = GoTimeLayout(layout) }
        return o
    }
}
