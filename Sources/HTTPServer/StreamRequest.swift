import Contract
import HTTP
import Records

/// The subscription a `/logs…` path and query ask for (docs/http.md).
struct StreamRequest: Equatable {
    var filter = SubscriptionFilter()
    /// `/logs/id:…` and `/logs/name:…` stream one container: bare lines in text mode.
    var single = false
    var colors = true

    /// Reads `/logs`, `/logs/filter:X`, `/logs/id:X`, `/logs/name:X` and `?types=`/`sources=`/`type=`,
    /// `?colors=off` (or on); anything else is a failure saying why (a 400).
    static func parse(_ head: HTTPRequestHead) -> Result<StreamRequest, StreamRequestError> {
        var r = StreamRequest()
        let rest = head.path.dropFirst("/logs".count)
        if !rest.isEmpty && rest != "/" {
            let spec = rest.dropFirst()
            guard let colon = spec.firstIndex(of: ":") else {
                return .failure(StreamRequestError("unknown stream '\(spec)': use /logs, /logs/filter:TEXT, /logs/id:ID or /logs/name:NAME"))
            }
            let kind = spec[..<colon]
            guard let value = percentDecode(spec[spec.index(after: colon)...]), !value.isEmpty else {
                return .failure(StreamRequestError("empty or badly encoded value in '\(spec)'"))
            }
            switch kind {
            case "filter": r.filter.substring = value
            case "id":
                r.filter.id = value
                r.single = true
            case "name":
                r.filter.name = value
                r.single = true
            default:
                return .failure(StreamRequestError("unknown stream '\(kind):': use filter:, id: or name:"))
            }
        }
        let types = head.queryValue("types") ?? head.queryValue("sources") ?? head.queryValue("type")
        if let types, !types.isEmpty {
            var set = Set<Source>()
            for t in types.split(separator: ",") {
                guard let source = Source(name: t.lowercased()) else {
                    return .failure(StreamRequestError("types must be stdout, stderr or both, not '\(t)'"))
                }
                set.insert(source)
            }
            r.filter.types = set.isEmpty ? nil : set
        }
        if let c = head.queryValue("colors")?.lowercased(), !c.isEmpty {
            if ["off", "false", "0", "no"].contains(c) {
                r.colors = false
            } else if !["on", "true", "1", "yes"].contains(c) {
                return .failure(StreamRequestError("colors must be on or off (true/false, 1/0, yes/no), not '\(c)'"))
            }
        }
        return .success(r)
    }
}

struct StreamRequestError: Error, Equatable {
    var message: String
    init(_ m: String) { message = m }
}
