import HTTP

/// A request head as the parser makes it.
func head(_ method: String, _ target: String, version: Int = 1, _ headers: [(String, String)] = []) -> HTTPRequestHead {
    HTTPRequestHead(method: method, target: target, versionMinor: version, headers: headers.map { HTTPField($0.0, $0.1) })
}

/// A WebSocket upgrade request for `target`.
func upgrade(_ target: String, version: String = "13") -> HTTPRequestHead {
    head("GET", target, [("Host", "localhost"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                         ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", version)])
}

/// A frame as a client sends it: masked (unless `masked` is false).
func clientFrame(_ opcode: UInt8, _ payload: [UInt8] = [], fin: Bool = true, masked: Bool = true) -> [UInt8] {
    let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
    let bit: UInt8 = masked ? 0x80 : 0
    var out: [UInt8] = [(fin ? 0x80 : 0) | opcode]
    if payload.count <= 125 {
        out.append(bit | UInt8(payload.count))
    } else {
        precondition(payload.count <= 0xFFFF)
        out += [bit | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
    }
    guard masked else { return out + payload }
    out += mask
    out += payload.enumerated().map { $0.element ^ mask[$0.offset & 3] }
    return out
}

/// A record line as route writes it on the bus.
func recordLine(id: String = "8713470e0e2c", name: String = "web", source: String = "stdout", data: String = "GET / 200") -> String {
    #"{"time":"2026-11-24T20:42:17.123456789Z","source":"\#(source)","data":"\#(data)","container":{"id":"\#(id)","name":"\#(name)"}}"#
}

func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

extension Array where Element == UInt8 {
    /// Calls `body` with the bytes as a raw buffer.
    func raw<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R { withUnsafeBytes(body) }
}
