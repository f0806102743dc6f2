// attach: follows every container's stdout and stderr and writes one NDJSON record per line.
// The command line is `AttachCommand` and the work `Attacher.run` (Sources/Attacher).

import Attacher
import Syscall

Sys.exit(AttachCommand.main(CommandLine.arguments))
