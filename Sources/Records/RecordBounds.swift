/// The size a record may have, and how a producer keeps within it whatever the container's metadata
/// (docs/records.md, "Size").
///
/// Readers cap a line at `LineSplitter`'s default, 1 MiB. A record a producer writes stays within
/// `maxRecordBytes` (1 MiB less 64 KiB), so that the route stage's `route` field still fits in a routed
/// record. The parts: the fixed fields (`fixedBytes`), the container's `id`, `name`, `image` and
/// `hostname` (each cut to `maxFieldBytes` as written), its labels (cut to a budget, `labelsBytes`), and
/// the data (a producer's maximum line size; a piece whose escapes would make it longer is cut again).
public enum RecordBounds {
    /// The longest record a producer writes, without its `"\n"`.
    public static let maxRecordBytes = (1 << 20) - (64 << 10)
    /// The most a container's `id`, `name`, `image` or `hostname` takes in a record, quotes and escapes
    /// included; a longer one is cut on a character boundary.
    public static let maxFieldBytes = 4096
    /// Everything of a record but its data, its labels and the four fields above: the keys, `time`,
    /// `source`, `partial`, `pid`, punctuation.
    public static let fixedBytes = 512
    /// The labels budget by default (`MAX_LABELS_SIZE`): the `labels` object as written, braces included.
    public static let defaultLabelsBytes = 64 << 10
    /// The smallest labels budget: room for the marker and a few labels.
    public static let minimumLabelsBytes = 1024
    /// The label that says how many labels were left out; it comes last.
    public static let truncationKey = "logspout.truncated"

    /// The room a record leaves for its data, with a labels budget of `labelsBytes`.
    public static func dataRoom(labelsBytes: Int) -> Int {
        maxRecordBytes - fixedBytes - 4 * maxFieldBytes - labelsBytes
    }

    /// The length of `s` written as a JSON string (`JSONString.append`), quotes included.
    public static func encodedLength(_ s: String) -> Int {
        var n = 2
        for b in s.utf8 {
            switch b {
            case 0x22, 0x5C, 0x0A, 0x0D, 0x09, 0x08, 0x0C: n += 2
            case ..<0x20: n += 6
            default: n += 1
            }
        }
        return n
    }

    /// `s` cut on a character boundary so that it is written in at most `maxBytes` (quotes included).
    public static func cut(_ s: String, toEncoded maxBytes: Int) -> String {
        guard encodedLength(s) > maxBytes else { return s }
        var n = 2
        var end = s.unicodeScalars.startIndex
        for scalar in s.unicodeScalars {
            let cost = encodedLength(String(scalar)) - 2
            if n + cost > maxBytes { break }
            n += cost
            end = s.unicodeScalars.index(after: end)
        }
        return String(s.unicodeScalars[..<end])
    }
}

extension Container {
    /// This container as records carry it, within `RecordBounds`: `id`, `name`, `image` and `hostname` cut
    /// to `RecordBounds.maxFieldBytes` each, and the labels object to `labelsBytes`. Labels that fit are
    /// kept in their order; when one does not fit in what is left it is omitted (a later, smaller one may
    /// still fit), and a last label `"logspout.truncated": "N labels omitted"` says how many were. Within
    /// the bounds it is the container unchanged.
    public func bounded(labelsBytes: Int) -> Container {
        let field = RecordBounds.maxFieldBytes
        var c = Container(id: RecordBounds.cut(id, toEncoded: field), name: RecordBounds.cut(name, toEncoded: field),
                          image: RecordBounds.cut(image, toEncoded: field),
                          hostname: RecordBounds.cut(hostname, toEncoded: field), pid: pid, labels: labels)
        var total = 2 + max(0, labels.count - 1)  // braces and commas
        var costs: [Int] = []
        costs.reserveCapacity(labels.count)
        for label in labels {
            let cost = RecordBounds.encodedLength(label.key) + 1 + RecordBounds.encodedLength(label.value)
            costs.append(cost)
            total += cost
        }
        guard total > labelsBytes else { return c }
        // Room for the marker: its key, the count (up to 20 digits) and the words, with their comma.
        let marker = RecordBounds.encodedLength(RecordBounds.truncationKey) + 1 + 2 + 20 + " labels omitted".utf8.count + 1
        var room = labelsBytes - 2 - marker
        var kept: [Label] = []
        var omitted = 0
        for (label, cost) in zip(labels, costs) {
            if cost + 1 <= room {
                kept.append(label)
                room -= cost + 1
            } else {
                omitted += 1
            }
        }
        kept.append(Label(RecordBounds.truncationKey, "\(omitted) label\(omitted == 1 ? "" : "s") omitted"))
        c.labels = Labels(kept)
        return c
    }
}
