@testable import Attacher
import Testing

@Suite("EventSkimmer")
struct EventSkimmerTests {
    func lines(_ text: String, chunk: Int = 7) -> [EventSkimmer.Line] {
        var skimmer = EventSkimmer()
        let bytes = Array(text.utf8)
        var i = 0
        var out: [EventSkimmer.Line] = []
        while i < bytes.count {
            skimmer.feed(bytes[i..<min(bytes.count, i + chunk)])
            out += skimmer.take()
            i += chunk
        }
        return out
    }

    @Test("the fields attach acts on, fed in small pieces; other events and blank lines")
    func fields() {
        let text = """
            {"status":"start","id":"abc","from":"img","Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":{"image":"img","name":"web"}},"scope":"local","time":1,"timeNano":1}

            {"Type":"container","Action":"rename","Actor":{"ID":"abc","Attributes":{"a":"{\\"name\\":1}","name":"/n\\u00e9w","oldName":"/old"}}}
            {"status":"destroy","id":"abc"}
            {"Type":"network","Action":"start","Actor":{"ID":"abc"}}
            {"Type":"container","Action":"die","Actor":{"ID":"abc","Attributes":{"name":"x"}}}
            {"Type":"container","Action":"rename","Actor":{"ID":"abc"}}

            """
        #expect(lines(text) == [.event(.start("abc")), .event(.rename("abc", name: "/néw")), .event(.destroy("abc")), .other, .event(.die("abc")), .other])
    }

    @Test("keys and values elsewhere do not count: nested objects, arrays, the same names deeper")
    func nesting() {
        let text = #"{"x":{"Action":"start","id":"no"},"list":[{"Type":"network"},"Action"],"Type":"container","Action":"start","Actor":{"Attributes":{"deep":{"name":"no"},"name":"yes"},"ID":"c1"}}"# + "\n"
        #expect(lines(text) == [.event(.start("c1"))])
        let rename = #"{"Type":"container","Action":"rename","Actor":{"ID":"c1","Attributes":{"deep":{"name":"no"},"name":"yes"}}}"# + "\n"
        #expect(lines(rename) == [.event(.rename("c1", name: "yes"))])
    }

    @Test("an event of several MiB (labels in its attributes) is read, and nothing of it is kept")
    func huge() {
        var text = #"{"status":"start","id":"big","Type":"container","Action":"start","Actor":{"ID":"big","Attributes":{"#
        for k in 0..<30 { text += "\"label\(k)\":\"" + String(repeating: "x", count: 100_000) + "\\\"\"," }
        text += #""name":"web"}},"time":1}"# + "\n"
        text += #"{"Type":"container","Action":"destroy","Actor":{"ID":"next"}}"# + "\n"
        #expect(text.utf8.count > 3_000_000)
        #expect(lines(text, chunk: 65536) == [.event(.start("big")), .event(.destroy("next"))])
    }

    @Test("an unreadable line is reported (its first 200 bytes) and the next one is read")
    func unreadable() {
        let text = "not json\n{\"Type\":\"container\",\"Action\":\"start\"\n{\"a\":1}}\n" + #"{"Action":"start","id":"ok"}"# + "\n"
        let got = lines(text)
        #expect(got.count == 4)
        #expect(got[0] == .unreadable("not json"))
        #expect(got[1] == .unreadable(#"{"Type":"container","Action":"start""#))
        #expect(got[2] == .unreadable(#"{"a":1}}"#))
        #expect(got[3] == .event(.start("ok")))
    }
}
