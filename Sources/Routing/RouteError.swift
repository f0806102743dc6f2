import Syscall

/// Why a route (a URI, a route JSON document, a route file, an id) was refused, or why the store could
/// not do what it was asked. The message is one line, meant for a person: `bad route URI
/// 'syslog://logs:99999': port 99999 is not in 1…65535`.
public struct RouteError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// The failed system call behind it (saving or reading a route file, reaching etcd), errno included.
    public var cause: SyscallError?
    /// The id is reserved for a route from the arguments, `ROUTE_URIS` or discovery (a conflict, not a
    /// bad route).
    public var reserved = false

    public init(_ message: String, cause: SyscallError? = nil, reserved: Bool = false) {
        self.message = message
        self.cause = cause
        self.reserved = reserved
    }

    public var description: String { message }
}
