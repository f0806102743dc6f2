import Testing
import Syscall

@Suite("Diagnostics")
struct DiagnosticTests {
    /// Found by fuzzing (Fuzz/Sources/pattern): a refused pattern's message quotes the pattern, and a pattern
    /// may hold a line break; a diagnostic stays one line whatever it quotes.
    @Test("a diagnostic is one line, its CR and LF escaped")
    func oneLine() {
        #expect(Sys.diagnosticLine("route: invalid flags in (?s\n") == Array(#"route: invalid flags in (?s\n"#.utf8) + [10])
        #expect(Sys.diagnosticLine("a\r\nb") == Array(#"a\r\nb"#.utf8) + [10])
        #expect(Sys.diagnosticLine("plain é") == Array("plain é\n".utf8))
    }
}
