import Syscall

/// `route`'s command line: options and environment, then `RouteRunner.run`. Returns the exit status.
public enum RouteCommand {
    public static func main(_ argv: [String]) -> Int32 {
        let arguments = Array(argv.dropFirst())
        if arguments.contains(where: { $0 == "-h" || $0 == "--help" }) {
            print(RouteOptions.usage, terminator: "")
            return 0
        }
        let options: RouteOptions
        do {
            options = try RouteOptions.parse(arguments: arguments, environment: Sys.environment)
        } catch {
            Sys.diagnostic("route: " + error.message)
            return RouteExit.usage.rawValue
        }
        return RouteRunner(options: options).run().rawValue
    }
}
