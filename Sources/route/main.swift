// route: reads records on stdin and writes one routed record per (record, matching route) on stdout.
// The command line is `RouteCommand` and the work `RouteRunner.run` (Sources/Routing).

import Routing
import Syscall

Sys.exit(RouteCommand.main(CommandLine.arguments))
