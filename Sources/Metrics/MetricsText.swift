// The Prometheus text exposition format, version 0.0.4: what `GET /metrics` serves, and what each stage
// writes into its snapshot file (MetricsPublisher). https://prometheus.io/docs/instrumenting/exposition_formats/

/// The type line of a metric family.
public enum MetricType: String, Sendable {
    case counter, gauge, untyped
}

/// A metrics text being written: families (`# HELP`, `# TYPE`) each followed by their samples. The caller
/// writes each family's samples right after its header, as the format requires; names are the caller's
/// constants (`logspout_<stage>_…`, `_total` for counters, base units), label values anything (escaped).
public struct MetricsText: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 4096) { bytes.reserveCapacity(capacity) }

    /// `# HELP name help` and `# TYPE name type`.
    public mutating func family(_ name: String, _ type: MetricType, _ help: String) {
        append("# HELP ")
        append(name)
        bytes.append(32)
        for b in help.utf8 {
            switch b {
            case 92: append("\\\\")
            case 10: append("\\n")
            default: bytes.append(b)
            }
        }
        append("\n# TYPE ")
        append(name)
        bytes.append(32)
        append(type.rawValue)
        bytes.append(10)
    }

    /// One sample without labels: `name 42`.
    public mutating func sample(_ name: String, _ value: some BinaryInteger) { sample(name, [:], value) }

    /// One sample without labels, floating-point.
    public mutating func sample(_ name: String, _ value: Double) { sample(name, [:], value) }

    /// One sample with an integer value: `name{label="value",…} 42`.
    public mutating func sample(_ name: String, _ labels: KeyValuePairs<String, String>, _ value: some BinaryInteger) {
        head(name, labels)
        append(String(value))
        bytes.append(10)
    }

    /// One sample with a floating-point value (`+Inf`, `-Inf` and `NaN` as the format spells them).
    public mutating func sample(_ name: String, _ labels: KeyValuePairs<String, String>, _ value: Double) {
        head(name, labels)
        if value.isNaN {
            append("NaN")
        } else if value.isInfinite {
            append(value < 0 ? "-Inf" : "+Inf")
        } else if value == value.rounded(), abs(value) < 1e15 {
            append(String(Int64(value)))
        } else {
            append(String(value))
        }
        bytes.append(10)
    }

    /// Appends another text (a stage's snapshot) as it is; it must end with a newline, or be empty.
    public mutating func append(contentsOf other: some Sequence<UInt8>) {
        bytes.append(contentsOf: other)
    }

    private mutating func head(_ name: String, _ labels: KeyValuePairs<String, String>) {
        append(name)
        guard !labels.isEmpty else {
            bytes.append(32)
            return
        }
        bytes.append(123)  // {
        var first = true
        for (key, value) in labels {
            if !first { bytes.append(44) }
            first = false
            append(key)
            append("=\"")
            for b in value.utf8 {
                switch b {
                case 92: append("\\\\")
                case 34: append("\\\"")
                case 10: append("\\n")
                default: bytes.append(b)
                }
            }
            bytes.append(34)
        }
        append("} ")
    }

    private mutating func append(_ s: String) {
        bytes.append(contentsOf: s.utf8)
    }
}
