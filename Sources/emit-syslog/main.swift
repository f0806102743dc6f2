// emit-syslog: reads routed records on stdin and sends them to syslog receivers over UDP or TCP.
// The command line is `EmitSyslogCommand` and the work `Emitter.run` (Sources/Emitter).

import Emitter

#if canImport(Glibc)
import Glibc
#endif

exit(EmitSyslogCommand.main(CommandLine.arguments))
