// logspout: every stage in one executable, chosen by the name it is called by (a link named attach,
// route, emit-syslog or httpd) or by its first argument (`logspout route syslog://…`). The container
// image ships this one static executable: its code pages are then shared by all the stages' processes.
// `logspout health` asks the running appliance's /health: the image's HEALTHCHECK.

import Attacher
import Emitter
import HTTPServer
import Routing
import Syscall

let stages: [String: @Sendable ([String]) -> ExitCode] = [
    "attach": AttachCommand.main,
    "route": RouteCommand.main,
    "emit-syslog": EmitSyslogCommand.main,
    "httpd": HTTPDCommand.main,
]

let argv = CommandLine.arguments
let called = String(argv.first?.split(separator: "/").last ?? "logspout")
if let stage = stages[called] {
    Sys.exit(stage(argv))
}
if argv.count > 1, let stage = stages[argv[1]] {
    Sys.exit(stage(Array(argv.dropFirst())))
}
if argv.count > 1, argv[1] == "health" {
    Sys.exit(HealthCommand.main(Array(argv.dropFirst())))
}
let names = stages.keys.sorted().joined(separator: ", ")
let help = argv.count > 1 && (argv[1] == "-h" || argv[1] == "--help")
let text = "usage: logspout STAGE [ARGUMENTS...], or call it by a stage's name (\(names)); logspout health\n"
if help {
    print(text, terminator: "")
    Sys.exit(.ok)
}
Sys.diagnostic(String(text.dropLast()))
Sys.exit(.usage)
