import Syscall

/// `emit-syslog`'s command line: the environment, then `Emitter.run`. Returns the exit status.
public enum EmitSyslogCommand {
    public static func main(_ argv: [String]) -> ExitCode {
        Sys.raiseDescriptorLimit()  // soft to hard: a descriptor per client, container or receiver
        guard let arguments = Readiness.arguments(argv, stage: "emit-syslog") else { return .usage }
        for arg in arguments {
            if arg == "-h" || arg == "--help" {
                print(EmitterOptions.usage, terminator: "")
                return .ok
            }
            Sys.diagnostic("emit-syslog: unknown argument '\(arg)' (see emit-syslog --help)")
            return .usage
        }
        switch EmitterOptions.fromEnvironment(Sys.environment) {
        case .failure(let error):
            Sys.diagnostic("emit-syslog: \(error)")
            return .config
        case .success(let options):
            let emitter: Emitter
            do { emitter = try Emitter(options: options) } catch {
                Sys.diagnostic("emit-syslog: \(error)")
                return .software
            }
            return emitter.run()
        }
    }
}
