// The compiler from the tree to the program: one instruction per character or class, splits and jumps for
// alternation and repetition (a counted repetition is written out), refused past `Pattern.maxInstructions`.

struct Compiler {
    var program = Program()

    static func compile(_ tree: Node) throws(PatternError) -> Program {
        var compiler = Compiler()
        try compiler.emit(tree)
        try compiler.append(Instruction(op: .match))
        var program = compiler.program
        program.anchored = anchored(tree)
        program.hasAssertions = program.instructions.contains { $0.op == .assert }
        if !program.anchored, let first = compiler.firstBytes(), first.count < 200 {
            program.skips = true
            program.firstBytes = first
            for b in 0...255 where first.contains(UInt8(b)) { program.firstTable[b] = true }
        }
        return program
    }

    var count: UInt32 { UInt32(program.instructions.count) }

    @discardableResult
    mutating func append(_ inst: Instruction) throws(PatternError) -> Int {
        guard program.instructions.count < Pattern.maxInstructions else {
            throw PatternError(.tooLarge, "pattern compiles to more than \(Pattern.maxInstructions) instructions")
        }
        program.instructions.append(inst)
        return program.instructions.count - 1
    }

    mutating func emit(_ node: Node) throws(PatternError) {
        switch node {
        case .empty:
            break
        case .char(let c):
            try append(Instruction(op: .char, a: c))
        case .set(let ranges):
            try append(Instruction(op: .set, a: setNumber(ranges)))
        case .any(let newline):
            try append(Instruction(op: newline ? .any : .anyNotNewline))
        case .assertion(let a):
            try append(Instruction(op: .assert, a: a.rawValue))
        case .concat(let items):
            for item in items { try emit(item) }
        case .alternate(let branches):
            // split L1, next; L1: branch; jump end; next: split L2, … ; the last branch falls through.
            var jumps: [Int] = []
            for (k, branch) in branches.enumerated() {
                if k == branches.count - 1 {
                    try emit(branch)
                } else {
                    let split = try append(Instruction(op: .split, a: count + 1))
                    try emit(branch)
                    jumps.append(try append(Instruction(op: .jump)))
                    program.instructions[split].b = count
                }
            }
            for j in jumps { program.instructions[j].a = count }
        case .repetition(let body, let min, let max):
            // A body that compiles to nothing (`()`, `(?:)`) repeated is nothing: stop before copying it.
            let before = count
            try emit(body)
            if count == before { return }
            program.instructions.removeLast(Int(count - before))
            if max == nil && min > 0 {
                // x{n,}: n - 1 copies, then loop: body; split loop, next.
                for _ in 1..<min { try emit(body) }
                let loop = count
                try emit(body)
                try append(Instruction(op: .split, a: loop, b: count + 1))
                return
            }
            for _ in 0..<min { try emit(body) }
            if let max {
                // Each optional copy: split body, end.
                var splits: [Int] = []
                for _ in min..<max {
                    splits.append(try append(Instruction(op: .split, a: count + 1)))
                    try emit(body)
                }
                for s in splits { program.instructions[s].b = count }
            } else {
                // loop: split body, end; body; jump loop.
                let loop = try append(Instruction(op: .split, a: count + 1))
                try emit(body)
                try append(Instruction(op: .jump, a: UInt32(loop)))
                program.instructions[loop].b = count
            }
        }
    }

    /// The set's number in the program, its ranges split into ASCII bits and non-ASCII bounds.
    mutating func setNumber(_ ranges: Ranges) -> UInt32 {
        var info = SetInfo(start: UInt32(program.bounds.count / 2))
        for r in ranges {
            if r.lowerBound < 128 {
                for c in r.lowerBound...min(r.upperBound, 127) {
                    if c < 64 { info.low |= 1 << UInt64(c) } else { info.high |= 1 << UInt64(c - 64) }
                }
            }
            if r.upperBound >= 128 {
                program.bounds.append(Swift.max(r.lowerBound, 128))
                program.bounds.append(r.upperBound)
            }
        }
        info.end = UInt32(program.bounds.count / 2)
        program.sets.append(info)
        return UInt32(program.sets.count - 1)
    }

    /// Whether every match of `node` begins at the start of the text.
    static func anchored(_ node: Node) -> Bool {
        switch node {
        case .assertion(let a): a == .beginText
        case .concat(let items): items.first.map(anchored) ?? false
        case .alternate(let branches): branches.allSatisfy(anchored)
        case .repetition(let body, let min, _): min > 0 && anchored(body)
        case .empty, .char, .set, .any: false
        }
    }

    /// The bytes a match can begin with, or nil when a match can begin without consuming a character (an
    /// assertion or the match are reachable from the start).
    func firstBytes() -> ByteSet? {
        let code = program.instructions
        var seen = Set<UInt32>()
        var stack: [UInt32] = [0]
        var bytes = ByteSet()
        while let pc = stack.popLast() {
            guard seen.insert(pc).inserted else { continue }
            let inst = code[Int(pc)]
            switch inst.op {
            case .jump: stack.append(inst.a)
            case .split: stack += [inst.a, inst.b]
            case .assert, .match: return nil
            case .char: Self.addLeadBytes(inst.a...inst.a, to: &bytes)
            case .any, .anyNotNewline: Self.addLeadBytes(0...CharClass.maxScalar, to: &bytes)
            case .set:
                let set = program.sets[Int(inst.a)]
                for c in 0..<64 where set.low & (1 << UInt64(c)) != 0 { bytes.insert(UInt8(c)) }
                for c in 0..<64 where set.high & (1 << UInt64(c)) != 0 { bytes.insert(UInt8(c + 64)) }
                for k in Int(set.start)..<Int(set.end) {
                    Self.addLeadBytes(program.bounds[2 * k]...program.bounds[2 * k + 1], to: &bytes)
                }
            }
        }
        return bytes
    }

    /// The first UTF-8 bytes of the characters of `range`; every byte from 0x80 up when U+FFFD is in it
    /// (a malformed byte reads as U+FFFD).
    static func addLeadBytes(_ range: ClosedRange<UInt32>, to bytes: inout ByteSet) {
        if range.lowerBound < 128 {
            for c in range.lowerBound...min(range.upperBound, 127) { bytes.insert(UInt8(c)) }
        }
        guard range.upperBound >= 128 else { return }
        if range.contains(0xFFFD) {
            for b in 0x80...0xFF { bytes.insert(UInt8(b)) }
            return
        }
        func lead(_ c: UInt32) -> UInt8 {
            switch c {
            case ..<0x800: UInt8(0xC0 | (c >> 6))
            case ..<0x10000: UInt8(0xE0 | (c >> 12))
            default: UInt8(0xF0 | (c >> 18))
            }
        }
        for b in lead(max(range.lowerBound, 128))...lead(range.upperBound) { bytes.insert(b) }
    }
}
