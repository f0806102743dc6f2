import CFuzzer

/// `main`'s argument vector.
public typealias Arguments = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?

/// libFuzzer's `LLVMFuzzerTestOneInput`.
public typealias FuzzTarget = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

/// A target's `main`: libFuzzer's driver, with its flags from the command line, running `target` on each input.
public func runFuzzer(_ argc: CInt, _ argv: Arguments, _ target: FuzzTarget) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, target)
}

/// The first byte of an input, which chooses a target's options, and the bytes after it; nil when empty.
public func optionsAndInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> (options: UInt8, input: UnsafeRawBufferPointer)? {
    guard size > 0, let data else { return nil }
    return (data[0], UnsafeRawBufferPointer(start: data + 1, count: size - 1))
}

/// Calls `body` with `input` in pieces of `piece` bytes, in order.
public func inPieces<E: Error>(_ input: UnsafeRawBufferPointer, _ piece: Int,
                               _ body: (UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
    var at = 0
    while at < input.count {
        let end = min(input.count, at + piece)
        try body(UnsafeRawBufferPointer(rebasing: input[at..<end]))
        at = end
    }
}

/// The incremental parsers' contract: what `parse` sees of `input` fed whole (a piece as long as the input)
/// is what it sees fed a byte at a time and in 7-byte pieces.
public func checkSameInPieces<Seen: Equatable>(_ input: UnsafeRawBufferPointer, _ parse: (_ piece: Int) -> Seen) {
    let whole = parse(max(input.count, 1))
    for piece in [1, 7] {
        let split = parse(piece)
        precondition(split == whole, "fed in pieces of \(piece), the parser saw \(split), whole \(whole)")
    }
}
