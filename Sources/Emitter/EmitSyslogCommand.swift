import Syscall

/// `emit-syslog`'s command line: the environment, then `Emitter.run`. Returns the exit status.
public enum EmitSyslogCommand {
    public static func main(_ argv: [String]) -> Int32 {
        for arg in argv.dropFirst() {
            if arg == "-h" || arg == "--help" {
                print(EmitterOptions.usage, terminator: "")
                return 0
            }
            Sys.diagnostic("emit-syslog: unknown argument '\(arg)' (see emit-syslog --help)")
            return 64
        }
        switch EmitterOptions.fromEnvironment(Sys.environment) {
        case .failure(let error):
            Sys.diagnostic("emit-syslog: \(error)")
            return 64
        case .success(let options):
            return Emitter(options: options).run()
        }
    }
}
