// A regular-expression matcher for Go's `regexp` (RE2) syntax whose time is linear in the text: the pattern
// is parsed into a tree, compiled into a small program of instructions, and run as a Thompson NFA (a Pike
// VM without submatches) over the text's Unicode scalars, one step per character, with no backtracking.
// Only "does it match anywhere in this text" is answered; that is all a multiline route needs.

/// Why a pattern was refused: one line naming what is wrong or unsupported.
public struct PatternError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Not a regular expression (`(unclosed`, `[z-a]`, `\y`).
        case syntax
        /// Valid elsewhere, outside RE2's syntax: backreferences, lookaround, possessive quantifiers, `\C`.
        case unsupported
        /// Over one of `Pattern`'s limits (repetition count, program size, nesting, length).
        case tooLarge
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// A compiled pattern. `matches` costs at most (program size × characters) steps, whatever the pattern and
/// the text, and allocates nothing on the heap for programs of a few hundred instructions.
public struct Pattern: Sendable {
    /// The largest count in `{n}`, `{n,}`, `{n,m}` (RE2's and Go's).
    public static let maxRepeat = 1000
    /// The most instructions a pattern may compile to: the bound on the work per character of text.
    public static let maxInstructions = 5000
    /// The most groups (and classes) nested in each other.
    public static let maxNesting = 200
    /// The longest pattern, in UTF-8 bytes.
    public static let maxLength = 4096

    /// The pattern as given.
    public let source: String
    let program: Program

    /// Compiles `source` (Go's `regexp` syntax), or says in one line why it cannot.
    public init(_ source: String) throws(PatternError) {
        guard source.utf8.count <= Self.maxLength else {
            throw PatternError(.tooLarge, "pattern of \(source.utf8.count) bytes is longer than \(Self.maxLength)")
        }
        var parser = Parser(source)
        let tree = try parser.parse()
        self.source = source
        program = try Compiler.compile(tree)
    }

    /// The number of instructions the pattern compiled to.
    public var instructionCount: Int { program.instructions.count }

    /// Whether the pattern matches anywhere in `text` (an unanchored search, as Go's `MatchString`).
    @inlinable
    public func matches(_ text: some StringProtocol) -> Bool {
        if let found = text.utf8.withContiguousStorageIfAvailable({ matches(utf8: $0) }) { return found }
        return Array(text.utf8).withUnsafeBufferPointer { matches(utf8: $0) }
    }

    /// Whether the pattern matches anywhere in `bytes`, read as UTF-8; a byte that does not begin a
    /// well-formed character reads as U+FFFD, one byte at a time (as Go reads it).
    public func matches(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        program.run(bytes)
    }

    /// `matches(utf8:)` over an array of bytes.
    public func matches(utf8 bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { program.run($0) }
    }
}
