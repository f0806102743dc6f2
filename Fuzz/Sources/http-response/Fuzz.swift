import CFuzzer
import HTTP

/// What the response parser saw, to compare the input fed whole with the same input fed in pieces.
struct Seen: Equatable {
    var heads: [HTTPHead] = []
    var body: [UInt8] = []
    var ends = 0
    var error: HTTPParseError?
    var done = false
}

func parse(_ input: UnsafeRawBufferPointer, piece: Int, noBody: Bool, maxHead: Int) -> Seen {
    var parser = HTTPResponseParser(maxHeadSize: maxHead)
    parser.expectsNoBody = noBody
    var seen = Seen()
    func record(_ event: HTTPResponseEvent) {
        switch event {
        case .head(let head):
            seen.heads.append(head)
            _ = head.header("content-length")
        case .body(let bytes): seen.body.append(contentsOf: bytes)
        case .end: seen.ends += 1
        }
    }
    var at = 0
    do {
        while at < input.count {
            let end = min(input.count, at + piece)
            try parser.feed(UnsafeRawBufferPointer(rebasing: input[at..<end]), record)
            at = end
        }
        try parser.finish(record)
    } catch {
        seen.error = error
    }
    seen.done = parser.isDone
    precondition(seen.ends <= 1 && seen.heads.count <= 1, "more than one response")
    return seen
}

/// The first byte chooses the options (a HEAD's answer, a small head limit); the rest is the response.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size > 0, let data else { return 0 }
    let options = data[0]
    let input = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    let noBody = options & 1 != 0
    let maxHead = options & 2 != 0 ? 64 : 64 * 1024
    let whole = parse(input, piece: max(input.count, 1), noBody: noBody, maxHead: maxHead)
    for piece in [1, 7] {
        let split = parse(input, piece: piece, noBody: noBody, maxHead: maxHead)
        precondition(split == whole, "fed in pieces of \(piece), the parser saw \(split), whole \(whole)")
    }
    return 0
}

@_cdecl("http_response_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzz)
}
