import FuzzSupport
import HTTP

/// What the request parser saw, to compare the input fed whole with the same input fed in pieces.
struct Seen: Equatable {
    var heads: [HTTPRequestHead] = []
    var body: [UInt8] = []
    var ends = 0
    var error: HTTPRequestError?
}

func parse(_ input: UnsafeRawBufferPointer, piece: Int, small: Bool) -> Seen {
    var parser = small
        ? HTTPRequestParser(maxHeadBytes: 64, maxBodyBytes: 64, maxTargetBytes: 16)
        : HTTPRequestParser()
    var seen = Seen()
    var at = 0
    while at < input.count {
        let end = min(input.count, at + piece)
        do {
            let used = try parser.feed(UnsafeRawBufferPointer(rebasing: input[at..<end])) { event in
                switch event {
                case .head(let head):
                    seen.heads.append(head)
                    _ = head.path
                    _ = head.query
                    _ = head.keepAlive
                    _ = head.isWebSocketUpgrade
                    _ = head.expectsContinue
                    _ = head.headerTokens("connection")
                    if head.isWebSocketUpgrade { _ = try? webSocketHandshakeResponse(to: head) }
                case .body(let bytes): seen.body.append(contentsOf: bytes)
                case .end: seen.ends += 1
                }
            }
            precondition(used <= end - at, "consumed more than it was fed")
            precondition(used == end - at || parser.pause != nil, "consumed less than all without a pause")
            at += used
            // Paused after a request: go on with the next one, as a server declining an upgrade does.
            if parser.pause != nil { parser.resume() }
        } catch {
            seen.error = error
            return seen
        }
    }
    return seen
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    for small in [false, true] {
        checkSameInPieces(input) { parse(input, piece: $0, small: small) }
    }
    return 0
}

@_cdecl("http_request_main")
func main(_ argc: CInt, _ argv: Arguments) -> CInt { runFuzzer(argc, argv, fuzz) }
