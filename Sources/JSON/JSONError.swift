/// A malformed-input error with the position where reading stopped.
///
/// `line` and `column` are 1-based; `column` counts bytes, not characters, so
/// it points at the same place for every text editor and for `cut -b`.
/// The description reads `line 1, column 40: expected '"'`.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String

    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        "line \(line), column \(column): \(message)"
    }
}

extension JSONError {
    /// An error at byte `offset` of `bytes`, with the line and column worked out
    /// by counting newlines before it (only done when an error happens).
    public init(at offset: Int, in bytes: UnsafeRawBufferPointer, message: String) {
        let end = min(max(offset, 0), bytes.count)
        var line = 1
        var lineStart = 0
        var i = 0
        while i < end {
            if bytes[i] == 0x0A {
                line += 1
                lineStart = i + 1
            }
            i += 1
        }
        self.init(line: line, column: end - lineStart + 1, message: message)
    }
}
