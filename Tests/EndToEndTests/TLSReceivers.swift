// Real TLS receivers for the syslog-over-TLS tests: a throwaway PKI made with the openssl command line, and
// a private rsyslogd taking syslog over TLS (imtcp with the `ossl` network stream driver, Debian's
// rsyslog-openssl), writing each message's parsed fields as one JSON object per line.

#if canImport(Glibc)
import Glibc
#endif
import JSON
import Syscall
import Testing

/// A test PKI in a fresh temporary folder, made with `openssl` (EC P-256 keys, valid for 3 days):
/// - a CA, and a server certificate it signed for DNS `localhost` and IP `127.0.0.1`;
/// - a second, "wrong" CA with its own server certificate for the same names;
/// - a server certificate signed by the right CA for DNS `elsewhere.test` only (a host name mismatch);
/// - a client certificate signed by the right CA, for mutual TLS.
final class TestPKI {
    let dir: String

    var caCert: String { dir + "/ca.pem" }
    var caKey: String { dir + "/ca.key" }
    var serverCert: String { dir + "/server.pem" }
    var serverKey: String { dir + "/server.key" }
    var wrongCACert: String { dir + "/wrong-ca.pem" }
    var wrongCAKey: String { dir + "/wrong-ca.key" }
    var wrongServerCert: String { dir + "/wrong-server.pem" }
    var wrongServerKey: String { dir + "/wrong-server.key" }
    var mismatchCert: String { dir + "/mismatch.pem" }
    var mismatchKey: String { dir + "/mismatch.key" }
    var clientCert: String { dir + "/client.pem" }
    var clientKey: String { dir + "/client.key" }

    static let openssl = "/usr/bin/openssl"

    init() throws {
        dir = Env.tempDir()
        // A config of our own, so that the system's openssl.cnf adds no extension of its own: every
        // extension below is asked for with -addext.
        writeText(dir + "/req.cnf", "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n")
        try makeCA("ca", subject: "/CN=logspout test CA")
        try makeCA("wrong-ca", subject: "/CN=logspout wrong CA")
        try makeLeaf("server", ca: "ca", subject: "/CN=localhost", san: "DNS:localhost,IP:127.0.0.1", usage: "serverAuth")
        try makeLeaf("wrong-server", ca: "wrong-ca", subject: "/CN=localhost", san: "DNS:localhost,IP:127.0.0.1", usage: "serverAuth")
        try makeLeaf("mismatch", ca: "ca", subject: "/CN=elsewhere.test", san: "DNS:elsewhere.test", usage: "serverAuth")
        try makeLeaf("client", ca: "ca", subject: "/CN=logspout client", san: nil, usage: "clientAuth")
    }

    /// `openssl req -x509` with a new EC P-256 key: a self-signed certificate, or with `-CA` one signed by it.
    private func request(_ name: String, _ extra: [String]) throws {
        let argv = [Self.openssl, "req", "-config", dir + "/req.cnf", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", "\(dir)/\(name).key", "-out", "\(dir)/\(name).pem", "-days", "3"] + extra
        let r = try run(argv, timeoutMs: 30_000)
        guard r.status == 0 else { throw TestFailure("openssl req for \(name).pem failed (\(r.status)): \(r.stderr)") }
    }

    private func makeCA(_ name: String, subject: String) throws {
        try request(name, ["-subj", subject, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    }

    private func makeLeaf(_ name: String, ca: String, subject: String, san: String?, usage: String) throws {
        var extra = ["-subj", subject, "-CA", "\(dir)/\(ca).pem", "-CAkey", "\(dir)/\(ca).key",
                     "-addext", "basicConstraints=critical,CA:FALSE", "-addext", "keyUsage=critical,digitalSignature",
                     "-addext", "extendedKeyUsage=\(usage)"]
        if let san { extra += ["-addext", "subjectAltName=\(san)"] }
        try request(name, extra)
    }

    /// emit-syslog's environment trusting only this PKI's CA.
    var trustOnlyCA: [String: String] {
        ["LOGSPOUT_TLS_CA_CERTS": caCert, "LOGSPOUT_TLS_DISABLE_SYSTEM_ROOTS": "true"]
    }

    /// `trustOnlyCA` plus this PKI's client certificate and key (mutual TLS).
    var trustOnlyCAWithClientCert: [String: String] {
        trustOnlyCA.merging(["LOGSPOUT_TLS_CLIENT_CERT": clientCert, "LOGSPOUT_TLS_CLIENT_KEY": clientKey]) { _, b in b }
    }
}

/// Writes `text` to `path` (created or truncated).
func writeText(_ path: String, _ text: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    _ = try? Sys.writeAll(fd, Array(text.utf8))
    close(fd)
}

/// A private rsyslogd taking syslog over TLS on 127.0.0.1 (imtcp with the `ossl` stream driver: OpenSSL),
/// writing each message's parsed fields as one JSON object per line, like `Rsyslog`. Newline and
/// octet-counted framing are both understood (imtcp tells them apart by the first byte).
final class RsyslogTLS {
    /// How rsyslog treats clients: `anon` asks for no client certificate; `x509/certvalid` requires one
    /// that the CA file verifies (any name).
    enum Auth: String { case anon, certValid = "x509/certvalid" }

    let dir: String
    let port: UInt16
    let pki: TestPKI
    let auth: Auth
    var child: Child?
    var out: String { dir + "/messages.json" }

    /// Serves `cert`/`key` (by default the PKI's server certificate for localhost and 127.0.0.1); client
    /// certificates, when `auth` asks for them, are checked against the PKI's CA. `tlsOptions`: OpenSSL
    /// configuration commands (rsyslog's `gnutlsPriorityString`, e.g. `Protocol=-ALL,TLSv1.2`). `port`: by
    /// default a free one; another receiver's, once that one is stopped, to replace it.
    init(pki: TestPKI, cert: String? = nil, key: String? = nil, auth: Auth = .anon, tlsOptions: [String] = [], port: UInt16? = nil) throws {
        self.pki = pki
        self.auth = auth
        dir = Env.tempDir()
        self.port = port ?? Env.freePort()
        let priority = tlsOptions.isEmpty ? "" : "\n      gnutlsPriorityString=\"\(tlsOptions.joined(separator: "\\n"))\""
        let conf = rsyslogConfig(dir: dir, modules: ["imtcp"], inputs: """
            input(type="imtcp" address="127.0.0.1" port="\(self.port)" ruleset="r"
                  streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="\(auth.rawValue)"
                  streamDriver.CAFile="\(pki.caCert)"
                  streamDriver.CertFile="\(cert ?? pki.serverCert)" streamDriver.KeyFile="\(key ?? pki.serverKey)"\(priority))
            """)
        writeText(dir + "/rsyslog.conf", conf)
        try start()
    }

    /// Starts rsyslogd (again, on the same port after `stop`); returns once a TLS handshake with it succeeds.
    func start() throws {
        let c = try Child(["/usr/sbin/rsyslogd", "-n", "-f", dir + "/rsyslog.conf", "-i", dir + "/rsyslog.pid"])
        child = c
        // Ready when a TLS handshake succeeds (openssl s_client, the server certificate not checked here:
        // some tests serve an untrusted one), with the client certificate when rsyslog asks for one.
        var argv = [TestPKI.openssl, "s_client", "-connect", "127.0.0.1:\(port)", "-brief"]
        if auth == .certValid { argv += ["-cert", pki.clientCert, "-key", pki.clientKey] }
        var last = ""
        let ok = try eventually(timeoutMs: 10_000) {
            if c.wait(timeoutMs: 0) != nil { return true }  // exited: reported below
            let r = try run(argv, timeoutMs: 5000)
            last = r.stderr
            return r.status == 0 && r.stderr.contains("CONNECTION ESTABLISHED")
        }
        guard ok, c.wait(timeoutMs: 0) == nil else {
            throw TestFailure("rsyslogd with TLS did not start: \(c.stderr)\nopenssl s_client: \(last)")
        }
    }

    func stop() {
        child?.stop()
        child = nil
    }

    /// The messages written so far, each an object of parsed fields.
    func messages() -> [JSONValue] {
        let bytes = readFile(out)
        return bytes.split(separator: 10).compactMap { try? JSONValue.parse(Array($0)) }
    }

    /// rsyslog's own diagnostics (TLS errors among them) since it was last started.
    var diagnostics: String { child?.stderr ?? "" }

    deinit { stop() }
}
