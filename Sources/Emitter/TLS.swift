import CTLS
import Contract

/// TLS settings (`LOGSPOUT_TLS_*`, the names gliderlabs/logspout uses).
public struct TLSOptions: Sendable, Equatable {
    /// PEM files of CAs to trust besides (or instead of) the system's roots (`LOGSPOUT_TLS_CA_CERTS`).
    public var caFiles: [String] = []
    /// Trust the system's roots (`LOGSPOUT_TLS_DISABLE_SYSTEM_ROOTS=true` turns it off).
    public var systemRoots = true
    /// A client certificate and key for mutual TLS (`LOGSPOUT_TLS_CLIENT_CERT`, `LOGSPOUT_TLS_CLIENT_KEY`).
    public var clientCert: String?
    public var clientKey: String?
    /// TLS 1.2 at least, forward-secret AEAD ciphers only (`LOGSPOUT_TLS_HARDENING=true`).
    public var hardening = false

    public init() {}

    /// Whether anything was set: the context is then made at start, so a bad file is an error at once.
    public var isCustomized: Bool { self != TLSOptions() }

    static func fromEnvironment(_ get: (String) -> String?) -> Result<TLSOptions, TargetError> {
        var o = TLSOptions()
        func flag(_ name: String) -> Result<Bool, TargetError> {
            switch get(name)?.lowercased() ?? "" {
            case "", "false", "0", "no": return .success(false)
            case "true", "1", "yes": return .success(true)
            case let other: return .failure(TargetError("\(name) '\(other)' is neither true nor false"))
            }
        }
        switch flag("LOGSPOUT_TLS_DISABLE_SYSTEM_ROOTS") {
        case .success(let off): o.systemRoots = !off
        case .failure(let e): return .failure(e)
        }
        switch flag("LOGSPOUT_TLS_HARDENING") {
        case .success(let on): o.hardening = on
        case .failure(let e): return .failure(e)
        }
        o.caFiles = (get("LOGSPOUT_TLS_CA_CERTS") ?? "").split(separator: ",").map {
            String($0.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
        }.filter { !$0.isEmpty }
        if let c = get("LOGSPOUT_TLS_CLIENT_CERT"), !c.isEmpty { o.clientCert = c }
        if let k = get("LOGSPOUT_TLS_CLIENT_KEY"), !k.isEmpty { o.clientKey = k }
        if (o.clientCert == nil) != (o.clientKey == nil) {
            return .failure(TargetError("LOGSPOUT_TLS_CLIENT_CERT and LOGSPOUT_TLS_CLIENT_KEY go together: set both or neither"))
        }
        return .success(o)
    }
}

/// An OpenSSL client context: the trust store and the client's own certificate.
final class TLSContext {
    let pointer: UnsafeMutableRawPointer

    init(_ options: TLSOptions) throws(TargetError) {
        var message = [CChar](repeating: 0, count: 512)
        // C copies of the paths, for OpenSSL's list of files.
        var paths: [UnsafeMutablePointer<CChar>?] = options.caFiles.map { path in
            let bytes = Array(path.utf8CString)
            let copy = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count)
            copy.initialize(from: bytes, count: bytes.count)
            return copy
        }
        defer { paths.forEach { $0?.deallocate() } }
        let made: UnsafeMutableRawPointer? = paths.withUnsafeMutableBufferPointer { files in
            files.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(1, files.count)) { list in
                logspout_tls_context(files.isEmpty ? nil : list, Int32(files.count), options.systemRoots ? 1 : 0,
                                     options.clientCert, options.clientKey, options.hardening ? 1 : 0, &message, message.count)
            }
        }
        guard let made else { throw TargetError(Self.text(message)) }
        pointer = made
    }

    deinit { logspout_tls_context_free(pointer) }

    /// The message C wrote into `buffer`, up to its terminating NUL.
    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// One TLS session over a connected non-blocking socket.
final class TLSSession {
    enum Step: Equatable {
        case done
        case wantRead
        case wantWrite
        case closed(String)
        case failed(String)
    }

    let pointer: UnsafeMutableRawPointer
    var message = [CChar](repeating: 0, count: 512)
    /// The length of a write that must be repeated (OpenSSL wants the same length after WANT_*).
    var retryLength: Int?

    init(context: TLSContext, fd: Int32, host: String) throws(TargetError) {
        guard let made = logspout_tls_session(context.pointer, fd, host, &message, message.count) else {
            throw TargetError(Self.text(message))
        }
        pointer = made
    }

    deinit { logspout_tls_session_free(pointer) }

    static func text(_ buffer: [CChar]) -> String { TLSContext.text(buffer) }

    private func step(_ status: Int32) -> Step {
        switch Int(status) {
        case LOGSPOUT_TLS_DONE: return .done
        case LOGSPOUT_TLS_WANT_READ: return .wantRead
        case LOGSPOUT_TLS_WANT_WRITE: return .wantWrite
        case LOGSPOUT_TLS_CLOSED: return .closed(Self.text(message))
        default: return .failed(Self.text(message))
        }
    }

    var isTLS13: Bool { logspout_tls_is_tls13(pointer) != 0 }

    func handshake() -> Step { step(logspout_tls_handshake(pointer, &message, message.count)) }

    /// Writes from `bytes`; returns how many were taken, or the step that stopped it.
    func write(_ bytes: UnsafeRawBufferPointer) -> (Int, Step) {
        let length = retryLength ?? min(bytes.count, 64 * 1024)
        var status: Int32 = 0
        let n = logspout_tls_write(pointer, bytes.baseAddress, length, &status, &message, message.count)
        if n > 0 {
            retryLength = nil
            return (n, .done)
        }
        let s = step(status)
        retryLength = (s == .wantRead || s == .wantWrite) ? length : nil
        return (0, s)
    }

    /// Takes what the receiver sent; `.wantRead` while the connection is fine.
    func discardInput() -> Step { step(logspout_tls_discard_input(pointer, &message, message.count)) }
}
