// httpd: logspout's HTTP face — live streams (/logs: text, JSON, SSE, WebSocket), the /routes API, the
// page at /, /health. The command line is `HTTPDCommand` and the work `HTTPDaemon.run` (Sources/HTTPServer).

import HTTPServer
import Syscall

Sys.exit(HTTPDCommand.main(CommandLine.arguments))
