// The compiled program and the machine that runs it: a Thompson NFA simulation (Pike VM) that keeps the
// set of instructions the match can be at, advances all of them over one character at a time, and never
// goes back in the text. Each instruction is visited at most once per character, so a search costs at
// most (instructions × characters) steps.

import Text

enum Op: UInt8 {
    /// Consume the character `a`.
    case char
    /// Consume a character of set number `a`.
    case set
    /// Consume any character.
    case any
    /// Consume any character but a newline.
    case anyNotNewline
    /// Go on at `a` and at `b`.
    case split
    /// Go on at `a`.
    case jump
    /// Go on when the assertions of mask `a` hold here.
    case assert
    /// The pattern matched.
    case match
}

struct Instruction {
    var op: Op
    var a: UInt32 = 0
    var b: UInt32 = 0
}

/// A set of characters: the ASCII ones as 128 bits, the others as ranges in `Program.bounds`.
struct SetInfo {
    var low: UInt64 = 0
    var high: UInt64 = 0
    var start: UInt32 = 0
    var end: UInt32 = 0
}

/// 256 bits: the bytes a match can begin with.
struct ByteSet {
    var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    @inline(__always)
    func contains(_ b: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(b & 63)
        switch b >> 6 {
        case 0: return words.0 & bit != 0
        case 1: return words.1 & bit != 0
        case 2: return words.2 & bit != 0
        default: return words.3 & bit != 0
        }
    }

    mutating func insert(_ b: UInt8) {
        let bit = UInt64(1) << UInt64(b & 63)
        switch b >> 6 {
        case 0: words.0 |= bit
        case 1: words.1 |= bit
        case 2: words.2 |= bit
        default: words.3 |= bit
        }
    }

    var count: Int { words.0.nonzeroBitCount + words.1.nonzeroBitCount + words.2.nonzeroBitCount + words.3.nonzeroBitCount }
}

struct Program: Sendable {
    var instructions: ContiguousArray<Instruction> = []
    var sets: ContiguousArray<SetInfo> = []
    /// The non-ASCII ranges of every set, as lower and upper bounds in turn.
    var bounds: ContiguousArray<UInt32> = []
    /// Every match begins at the start of the text (`^…`, `\A…`).
    var anchored = false
    /// Some instruction is an assertion: the machine works out which hold at each position.
    var hasAssertions = false
    /// When set, a match can only begin at a byte in `firstBytes`: the search skips to the next one.
    var skips = false
    var firstBytes = ByteSet()
    /// `firstBytes` as a table of 256 flags, for the skip loop.
    var firstTable = ContiguousArray<Bool>(repeating: false, count: 256)
}

extension Instruction: Sendable {}
extension SetInfo: Sendable {}
extension ByteSet: Sendable {}

// MARK: The machine

/// Marks a position before the text's start or past its end.
private let none: UInt32 = 0xFFFF_FFFF

@inline(__always)
private func isWord(_ c: UInt32) -> Bool {
    switch c {
    case 0x30...0x39, 0x41...0x5A, 0x5F, 0x61...0x7A: true
    default: false
    }
}

/// The assertions that hold between `before` and `after` (either `none` at an end of the text).
@inline(__always)
private func context(_ before: UInt32, _ after: UInt32) -> UInt32 {
    var mask: UInt32 = 0
    if before == none { mask |= Assertion.beginText.rawValue | Assertion.beginLine.rawValue }
    else if before == 0x0A { mask |= Assertion.beginLine.rawValue }
    if after == none { mask |= Assertion.endText.rawValue | Assertion.endLine.rawValue }
    else if after == 0x0A { mask |= Assertion.endLine.rawValue }
    let word = (before != none && isWord(before)) != (after != none && isWord(after))
    mask |= word ? Assertion.wordBoundary.rawValue : Assertion.notWordBoundary.rawValue
    return mask
}

/// The character at `i` and its length in bytes; a byte that does not begin a well-formed character is
/// U+FFFD, one byte long.
@inline(__always)
private func decode(_ text: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, Int) {
    let b0 = text[i]
    if b0 < 0x80 { return (UInt32(b0), 1) }
    guard let lead = UTF8Rules.lead(b0), i + lead.continuations < text.count else { return (0xFFFD, 1) }
    let b1 = text[i + 1]
    guard b1 >= lead.lower && b1 <= lead.upper else { return (0xFFFD, 1) }
    switch lead.continuations {
    case 1:
        return (UInt32(b0 & 0x1F) << 6 | UInt32(b1 & 0x3F), 2)
    case 2:
        let b2 = text[i + 2]
        guard b2 & 0xC0 == 0x80 else { return (0xFFFD, 1) }
        return (UInt32(b0 & 0x0F) << 12 | UInt32(b1 & 0x3F) << 6 | UInt32(b2 & 0x3F), 3)
    default:
        let b2 = text[i + 2]
        let b3 = text[i + 3]
        guard b2 & 0xC0 == 0x80, b3 & 0xC0 == 0x80 else { return (0xFFFD, 1) }
        return (UInt32(b0 & 0x07) << 18 | UInt32(b1 & 0x3F) << 12 | UInt32(b2 & 0x3F) << 6 | UInt32(b3 & 0x3F), 4)
    }
}

/// A sparse set of instruction numbers (Briggs and Torczon): insert, test and clear in constant time.
private struct ThreadList {
    let dense: UnsafeMutablePointer<UInt32>
    let sparse: UnsafeMutablePointer<UInt32>
    var count = 0

    @inline(__always)
    func contains(_ pc: UInt32) -> Bool {
        let k = Int(sparse[Int(pc)])
        return k < count && dense[k] == pc
    }

    @inline(__always)
    mutating func insert(_ pc: UInt32) {
        sparse[Int(pc)] = UInt32(count)
        dense[count] = pc
        count += 1
    }
}

extension Program {
    func run(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = instructions.count
        // Two lists (dense and sparse parts) and the stack of the closure (each instruction pushes at most two).
        return withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 6 * n + 2) { memory in
            memory.initialize(repeating: 0)
            let base = memory.baseAddress!
            var current = ThreadList(dense: base, sparse: base + n)
            var next = ThreadList(dense: base + 2 * n, sparse: base + 3 * n)
            let stack = base + 4 * n
            return instructions.withUnsafeBufferPointer { code in
                sets.withUnsafeBufferPointer { sets in
                    bounds.withUnsafeBufferPointer { bounds in
                        firstTable.withUnsafeBufferPointer { first in
                            search(text, code, sets, bounds, first, &current, &next, stack)
                        }
                    }
                }
            }
        }
    }

    /// Follows the instructions that consume nothing from `pc`, adding each one reached to `list`, under
    /// the assertions of `mask`; true when the match instruction is reached.
    @inline(__always)
    private func add(_ pc: UInt32, _ list: inout ThreadList, _ mask: UInt32, _ code: UnsafeBufferPointer<Instruction>,
                     _ stack: UnsafeMutablePointer<UInt32>) -> Bool {
        var top = 0
        stack[0] = pc
        top = 1
        while top > 0 {
            top -= 1
            let pc = stack[top]
            if list.contains(pc) { continue }
            list.insert(pc)
            let inst = code[Int(pc)]
            switch inst.op {
            case .jump:
                stack[top] = inst.a
                top += 1
            case .split:
                stack[top] = inst.b
                stack[top + 1] = inst.a
                top += 2
            case .assert:
                if inst.a & mask == inst.a {
                    stack[top] = pc + 1
                    top += 1
                }
            case .match:
                return true
            case .char, .set, .any, .anyNotNewline:
                break
            }
        }
        return false
    }

    @inline(__always)
    private func contains(_ set: SetInfo, _ c: UInt32, _ bounds: UnsafeBufferPointer<UInt32>) -> Bool {
        if c < 64 { return set.low & (1 << UInt64(c)) != 0 }
        if c < 128 { return set.high & (1 << UInt64(c - 64)) != 0 }
        var lo = Int(set.start)
        var hi = Int(set.end)
        while lo < hi {
            let mid = (lo + hi) / 2
            if bounds[2 * mid + 1] < c { lo = mid + 1 } else if bounds[2 * mid] > c { hi = mid } else { return true }
        }
        return false
    }

    private func search(_ text: UnsafeBufferPointer<UInt8>, _ code: UnsafeBufferPointer<Instruction>,
                        _ sets: UnsafeBufferPointer<SetInfo>, _ bounds: UnsafeBufferPointer<UInt32>,
                        _ first: UnsafeBufferPointer<Bool>, _ current: inout ThreadList, _ next: inout ThreadList, _ stack: UnsafeMutablePointer<UInt32>) -> Bool {
        let end = text.count
        var pos = 0
        // The assertions that hold at `pos`.
        var mask: UInt32 = hasAssertions ? context(none, end > 0 ? decode(text, 0).0 : none) : 0
        while true {
            if current.count == 0 {
                if anchored && pos > 0 { return false }
                if skips {
                    while pos < end && !first[Int(text[pos])] { pos += 1 }
                    if pos == end { return false }
                }
            }
            if !anchored || pos == 0 {
                if add(0, &current, mask, code, stack) { return true }
            }
            if pos == end { return false }
            let (c, width) = decode(text, pos)
            let after = pos + width
            if hasAssertions { mask = context(c, after < end ? decode(text, after).0 : none) }
            next.count = 0
            for k in 0..<current.count {
                let pc = current.dense[k]
                let inst = code[Int(pc)]
                let consumes: Bool
                switch inst.op {
                case .char: consumes = c == inst.a
                case .set: consumes = contains(sets[Int(inst.a)], c, bounds)
                case .any: consumes = true
                case .anyNotNewline: consumes = c != 0x0A
                case .split, .jump, .assert, .match: consumes = false
                }
                if consumes && add(pc + 1, &next, mask, code, stack) { return true }
            }
            swap(&current, &next)
            pos = after
        }
    }
}
