import FuzzSupport
import Pattern

/// A multiline pattern (route JSON, URIs) and a line: the bytes before the first 0xFF (never in UTF-8) are
/// the pattern, the rest the line. A pattern compiles within its bounds or is refused with a message; a
/// match takes time linear in the line (a hang over libFuzzer's timeout is a finding); wrapping the pattern
/// in a group changes nothing.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    let split = input.firstIndex(of: 0xFF) ?? input.count
    let source = String(decoding: UnsafeBufferPointer(rebasing: input[..<split]), as: UTF8.self)
    let line = UnsafeBufferPointer(rebasing: input[min(split + 1, input.count)...])
    let pattern: Pattern
    do { pattern = try Pattern(source) } catch {
        // The message may quote a line break of the pattern; a diagnostic escapes it (Sys.diagnosticLine).
        precondition(!error.message.isEmpty, "an empty error")
        return 0
    }
    precondition(pattern.instructionCount <= Pattern.maxInstructions, "\(pattern.instructionCount) instructions")
    let found = pattern.matches(utf8: line)
    precondition(pattern.matches(String(decoding: line, as: UTF8.self)) == found || !isWellFormed(line),
                 "the String and the bytes match differently")
    if !source.contains("\\Q"), let grouped = try? Pattern("(?:" + source + ")") {
        precondition(grouped.matches(utf8: line) == found, "(?:…) matches differently")
    }
    return 0
}

func isWellFormed(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    String(validating: bytes, as: UTF8.self) != nil
}

@_cdecl("pattern_main")
func main(_ argc: CInt, _ argv: Arguments) -> CInt {
    // The first class folded under (?i) makes the table of cased scalars: seconds under AddressSanitizer,
    // which no input should be timed for.
    _ = try? Pattern("(?i)[a]")
    return runFuzzer(argc, argv, fuzz)
}
