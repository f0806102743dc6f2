import FuzzSupport
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
    do {
        try inPieces(input, piece) { (bytes) throws(HTTPParseError) in try parser.feed(bytes, record) }
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
    guard let (options, input) = optionsAndInput(data, size) else { return 0 }
    let noBody = options & 1 != 0
    let maxHead = options & 2 != 0 ? 64 : 64 * 1024
    checkSameInPieces(input) { parse(input, piece: $0, noBody: noBody, maxHead: maxHead) }
    return 0
}

@_cdecl("http_response_main")
func main(_ argc: CInt, _ argv: Arguments) -> CInt { runFuzzer(argc, argv, fuzz) }
