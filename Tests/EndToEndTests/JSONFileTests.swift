import Docker
import HTTP
import Syscall
import Testing

/// An entry as the engine gave it: its stream, its time as the logs endpoint writes it, its text.
struct EngineEntry: Equatable, CustomStringConvertible {
    var stream: StreamKind
    var time: String
    var text: [UInt8]
    var description: String { "\(stream) \(time) \(String(decoding: text.prefix(60), as: UTF8.self).debugDescription) (\(text.count) bytes)" }
}

/// A line as `LogStreamParser` assembled it.
struct AssembledLine: Equatable, CustomStringConvertible {
    var stream: StreamKind
    var time: String
    var data: [UInt8]
    var partial: Bool
    var description: String { "\(stream) \(time) \(partial ? "partial " : "")\(String(decoding: data.prefix(60), as: UTF8.self).debugDescription) (\(data.count) bytes)" }
}

/// The whole body of `logs?follow=1&timestamps=1` of a container that has stopped, through attach's client.
func logsEndpointBody(_ id: String) throws -> [UInt8] {
    let client = DockerClient(endpoint: try DockerEndpoint.resolve(dockerHost: try Env.dockerHost()))
    try client.negotiate()
    let fd = try client.endpoint.connect()
    defer { Sys.close(fd) }
    let response = try HTTPExchange.roundTrip(fd: fd, request: client.logsRequest(id: id, since: nil, onlyNew: false), timeoutMs: 20_000)
    guard response.head.status == 200 else { throw TestFailure("logs of \(id) answered \(response.head.status)") }
    return response.body
}

/// The entries of a multiplexed logs body: one frame, one entry, "time text".
func endpointEntries(_ body: [UInt8]) throws -> [EngineEntry] {
    var entries: [EngineEntry] = []
    var i = 0
    while i < body.count {
        guard i + 8 <= body.count else { throw TestFailure("a frame header cut at byte \(i)") }
        let size = Int(body[i + 4]) << 24 | Int(body[i + 5]) << 16 | Int(body[i + 6]) << 8 | Int(body[i + 7])
        let payload = Array(body[(i + 8)..<(i + 8 + size)])
        guard let space = payload.firstIndex(of: 32) else { throw TestFailure("an entry without a timestamp") }
        entries.append(EngineEntry(stream: body[i] == 2 ? .stderr : .stdout, time: String(decoding: payload[..<space], as: UTF8.self),
                                   text: Array(payload[(space + 1)...])))
        i += 8 + size
    }
    return entries
}

/// The entries of a json-file log, read through `JSONFileEntryParser`; every line must be one.
func fileEntries(_ file: [UInt8]) throws -> [EngineEntry] {
    var parser = JSONFileEntryParser()
    var entries: [EngineEntry] = []
    var start = 0
    while let nl = file[start...].firstIndex(of: 10) {
        let entry = try file.withUnsafeBytes { try parser.parse(UnsafeRawBufferPointer(rebasing: $0[start..<nl])) }
        entries.append(EngineEntry(stream: entry.stream, time: String(decoding: parser.time, as: UTF8.self), text: parser.log))
        start = nl + 1
    }
    guard start == file.count else { throw TestFailure("the log file ends in a line without its \\n") }
    return entries
}

/// Lines assembled from entries as attach assembles them from a logs stream.
func assemble(_ entries: [EngineEntry], tty: Bool) -> [AssembledLine] {
    var parser = LogStreamParser(multiplexed: !tty)
    var lines: [AssembledLine] = []
    let emit: (LogLine) -> Void = { l in
        lines.append(AssembledLine(stream: l.stream, time: String(decoding: l.time, as: UTF8.self), data: Array(l.data), partial: l.partial))
    }
    for e in entries {
        var time = e.time
        time.withUTF8 { t in e.text.withUnsafeBytes { parser.feedEntry(stream: e.stream, time: UnsafeRawBufferPointer(t), text: $0, emit: emit) } }
    }
    parser.finish(emit: emit)
    return lines
}

/// Lines assembled straight from a logs body, as attach does today.
func assemble(body: [UInt8], tty: Bool) -> [AssembledLine] {
    var parser = LogStreamParser(multiplexed: !tty)
    var lines: [AssembledLine] = []
    let emit: (LogLine) -> Void = { l in
        lines.append(AssembledLine(stream: l.stream, time: String(decoding: l.time, as: UTF8.self), data: Array(l.data), partial: l.partial))
    }
    body.withUnsafeBytes { parser.feed($0, emit: emit) }
    parser.finish(emit: emit)
    return lines
}

/// Runs `script` in a container to its end; returns its id and the bytes of its json-file log.
func runToEnd(_ c: TestContainer, _ script: String, extra: [String] = []) throws -> [UInt8] {
    try c.run(script, extra: extra)
    _ = try docker("wait", c.name)
    let path = try docker("inspect", "-f", "{{.LogPath}}", c.name)
    guard path.hasSuffix("/\(c.id)/\(c.id)-json.log") else { throw TestFailure("LogPath is \(path)") }
    return try Sys.readFile(path, maxBytes: 64 << 20)
}

@Suite(.serialized) struct JSONFileTests {
    /// Every kind of content the attach tests send, and what else Go's escaping touches.
    static let corpus = #"printf 'tab\there\n'; printf 'quote " and backslash \\ end\n'; printf 'héllo wörld ✓ 🎉\n'; printf '\377\376 bad\n'; printf 'ok \300\257 \355\240\200 end\n'; printf '<&> \342\200\250 \001 \033[1m\r\n'; echo; echo to-stderr >&2; head -c 20000 /dev/zero | tr '\0' a; echo; head -c 307200 /dev/zero | tr '\0' b; echo; echo after; printf 'last, without a newline'"#

    @Test("a json-file log read from disk gives the entries and lines of the logs endpoint, byte for byte")
    func sameAsLogsEndpoint() throws {
        let c = TestContainer("jsonfile")
        let file = try runToEnd(c, Self.corpus)
        let fromFile = try fileEntries(file)
        let fromEndpoint = try endpointEntries(try logsEndpointBody(c.id))
        #expect(fromFile.count == fromEndpoint.count)
        #expect(fromFile.count >= 30)  // the long lines come in 16 KiB pieces
        for (a, b) in zip(fromFile, fromEndpoint) where a != b {
            Issue.record("from the file: \(a); from the endpoint: \(b)")
            break
        }
        #expect(fromFile == fromEndpoint)
        let lines = assemble(fromFile, tty: false)
        #expect(lines == assemble(body: try logsEndpointBody(c.id), tty: false))
        #expect(lines.count == 13)
        #expect(lines.last?.data == Array("last, without a newline".utf8))
        #expect(lines.contains { $0.stream == .stderr && $0.data == Array("to-stderr".utf8) })
    }

    @Test("a TTY container's json-file log gives the lines of the logs endpoint")
    func tty() throws {
        let c = TestContainer("jsonfile-tty")
        let file = try runToEnd(c, #"echo one; printf 'two\ttabbed\n'; printf '\377 bad\n'; echo; echo three"#, extra: ["-t"])
        let lines = assemble(try fileEntries(file), tty: true)
        #expect(lines == assemble(body: try logsEndpointBody(c.id), tty: true))
        #expect(lines.map(\.data) == [Array("one".utf8), Array("two\ttabbed".utf8), [0xEF, 0xBF, 0xBD] + Array(" bad".utf8), [], Array("three".utf8)])
    }
}
