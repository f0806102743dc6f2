/// Why a route (a URI, a route JSON document, a route file, an id) was refused, or why the store could
/// not do what it was asked. The message is one line, meant for a person: `bad route URI
/// 'syslog://logs:99999': port 99999 is not in 1…65535`.
public struct RouteError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
