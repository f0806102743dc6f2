// emit-syslog: reads routed records on stdin and sends them to syslog receivers over UDP or TCP.
// Options and environment here; the work is `Emitter.run` (Sources/Emitter).

import Emitter
import Syscall

#if canImport(Glibc)
import Glibc
#endif

for arg in CommandLine.arguments.dropFirst() {
    if arg == "-h" || arg == "--help" {
        print(EmitterOptions.usage, terminator: "")
        exit(0)
    }
    Sys.diagnostic("emit-syslog: unknown argument '\(arg)' (see emit-syslog --help)")
    exit(64)
}

switch EmitterOptions.fromEnvironment(Sys.environment) {
case .failure(let error):
    Sys.diagnostic("emit-syslog: \(error)")
    exit(64)
case .success(let options):
    exit(Emitter(options: options).run())
}
