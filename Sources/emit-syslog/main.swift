// emit-syslog: reads routed records on stdin and sends them to syslog receivers over UDP or TCP.
// The command line is `EmitSyslogCommand` and the work `Emitter.run` (Sources/Emitter).

import Emitter
import Syscall

Sys.exit(EmitSyslogCommand.main(CommandLine.arguments))
