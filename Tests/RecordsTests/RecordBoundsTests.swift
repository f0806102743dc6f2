import JSON
import Records
import Testing

@Suite("RecordBounds")
struct RecordBoundsTests {
    static let id = String(repeating: "a", count: 64)

    func labelsBytes(_ c: Container) -> Int {
        // The labels object as written: what follows `"labels":` up to the container's closing brace.
        let json = c.encodedJSON()
        let marker = Array(#""labels":"#.utf8)
        var i = 0
        while Array(json[i..<i + marker.count]) != marker { i += 1 }
        return json.count - (i + marker.count) - 1
    }

    @Test("a container within the budget is written unchanged")
    func unchanged() {
        let c = Container(id: Self.id, name: "web", image: "nginx:1.27", hostname: "h", pid: 7,
                          labels: ["b": "2", "a": "1"])
        #expect(c.bounded(labelsBytes: 1024) == c)
        #expect(c.bounded(labelsBytes: RecordBounds.defaultLabelsBytes).encodedJSON() == c.encodedJSON())
    }

    @Test("12 labels of 100 KB: the labels object stays within the budget, with the marker last")
    func bigLabels() throws {
        var labels = Labels()
        for k in 0..<12 { labels.append("big\(k)", String(repeating: "x", count: 100_000)) }
        labels.append("team", "db")
        let c = Container(id: Self.id, name: "web", labels: labels).bounded(labelsBytes: 65536)
        #expect(labelsBytes(c) <= 65536)
        #expect(c.labels.count == 2)
        #expect(c.labels["team"] == "db")  // a later label that fits is kept
        #expect(c.labels.last?.key == RecordBounds.truncationKey)
        #expect(c.labels[RecordBounds.truncationKey] == "12 labels omitted")
        // The record is valid JSON and decodes to the bounded container.
        let record = Record(time: "2026-01-01T00:00:00Z", source: .stdout, data: "x", container: c)
        let decoded = try RecordCodec.decode(line: RecordCodec.encode(record).dropLast().map { $0 })
        #expect(decoded.container == c)
    }

    @Test("labels are kept in their order while they fit; one that does not is omitted")
    func order() {
        var labels = Labels()
        for k in 0..<200 { labels.append(String(format3(k)), String(repeating: "v", count: 40)) }
        let c = Container(id: Self.id, labels: labels).bounded(labelsBytes: 2048)
        #expect(labelsBytes(c) <= 2048)
        let kept = c.labels.dropLast().map(\.key)
        #expect(kept == (0..<kept.count).map { format3($0) })
        #expect(c.labels.last == Label(RecordBounds.truncationKey, "\(200 - kept.count) labels omitted"))
        #expect(kept.count > 20)
    }

    @Test("escapes count as written: labels of control characters stay within the budget")
    func escapes() {
        var labels = Labels()
        for k in 0..<10 { labels.append("k\(k)", String(repeating: "\u{1}", count: 300)) }
        let c = Container(id: Self.id, labels: labels).bounded(labelsBytes: 4096)
        #expect(labelsBytes(c) <= 4096)
        #expect(c.labels[RecordBounds.truncationKey] != nil)
    }

    @Test("name, image, hostname and id are cut to 4 KiB as written, on a character boundary")
    func fields() {
        let long = String(repeating: "é", count: 5000)  // 2 bytes each
        let c = Container(id: Self.id, name: long, image: String(repeating: "\"", count: 3000),
                          hostname: long, pid: 1).bounded(labelsBytes: 1024)
        #expect(RecordBounds.encodedLength(c.name) <= RecordBounds.maxFieldBytes)
        #expect(RecordBounds.encodedLength(c.image) <= RecordBounds.maxFieldBytes)
        #expect(c.name.unicodeScalars.allSatisfy { $0 == "é" })
        #expect(c.name.utf8.count == RecordBounds.maxFieldBytes - 2)
        #expect(c.image.count == (RecordBounds.maxFieldBytes - 2) / 2)
        #expect(c.id == Self.id)
    }

    @Test("the encoded length is what JSONString writes")
    func encodedLength() {
        for s in ["", "abc", "a\"b\\c", "\n\r\t\u{8}\u{c}", "\u{0}\u{1f}", "é€😀"] {
            var out: [UInt8] = []
            JSONString.append(s, to: &out)
            #expect(RecordBounds.encodedLength(s) == out.count, "\(s)")
        }
    }

    @Test("the default line size and labels budget fit in a record, with room to spare for the route")
    func defaults() {
        #expect(RecordBounds.dataRoom(labelsBytes: RecordBounds.defaultLabelsBytes) >= 256 * 1024)
        #expect(RecordBounds.maxRecordBytes + 64 * 1024 == LineSplitter().maxLineLength)
    }
}

private func format3(_ k: Int) -> String {
    let s = String(k)
    return String(repeating: "0", count: 3 - s.count) + s
}
