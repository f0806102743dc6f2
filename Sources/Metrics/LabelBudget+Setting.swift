extension LabelBudget {
    /// The environment variable bounding each stage's user-set label values (docs/bus.md).
    public static let limitVariable = "METRICS_MAX_LABEL_VALUES"
    /// Distinct values of a user-set label a stage keeps without `METRICS_MAX_LABEL_VALUES`.
    public static let defaultLimit = 500
    /// The largest `METRICS_MAX_LABEL_VALUES` accepted. Thousands of long values can make a snapshot
    /// pass its 1 MiB, whose end is then cut at a whole line (`MetricsPublisher.maxFileBytes`).
    public static let maximumLimit = 100_000

    /// Reads `METRICS_MAX_LABEL_VALUES` (nil or empty: the default); nil when the text is not a whole
    /// number from 0 (everything folded) to `maximumLimit`, which a stage reports with `limitError`.
    public static func limit(setting text: String?) -> Int? {
        guard let text, !text.isEmpty else { return defaultLimit }
        guard let n = Int(text), n >= 0, n <= maximumLimit else { return nil }
        return n
    }

    /// The one line a stage says for a bad `METRICS_MAX_LABEL_VALUES` (it then exits 78).
    public static func limitError(_ text: String) -> String {
        "\(limitVariable) '\(text)' must be a whole number from 0 to \(maximumLimit)"
    }
}
