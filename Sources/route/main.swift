// route: reads records on stdin and writes one routed record per (record, matching route) on stdout.
// Options and environment here; the work is `RouteRunner.run` (Sources/Routing).

import Routing
import Syscall

#if canImport(Glibc)
import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains(where: { $0 == "-h" || $0 == "--help" }) {
    print(RouteOptions.usage, terminator: "")
    exit(0)
}

let options: RouteOptions
do {
    options = try RouteOptions.parse(arguments: arguments, environment: Sys.environment)
} catch {
    Sys.diagnostic("route: " + error.message)
    exit(RouteExit.usage.rawValue)
}

exit(RouteRunner(options: options).run().rawValue)
