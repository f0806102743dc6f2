import Syscall

/// `route`'s command line: options and environment, then `RouteRunner.run`. Returns the exit status.
public enum RouteCommand {
    public static func main(_ argv: [String]) -> ExitCode {
        Sys.raiseDescriptorLimit()  // soft to hard: a descriptor per client, container or receiver
        guard let arguments = Readiness.arguments(argv, stage: "route") else { return .usage }
        if arguments.contains(where: { $0 == "-h" || $0 == "--help" }) {
            print(RouteOptions.usage, terminator: "")
            return .ok
        }
        let options: RouteOptions
        do {
            _ = try RouteOptions.uris(arguments: arguments)
        } catch {
            Sys.diagnostic("route: " + error.message)
            return .usage
        }
        do {
            options = try RouteOptions.parse(arguments: arguments, environment: Sys.environment)
        } catch {
            Sys.diagnostic("route: " + error.message)
            return .config
        }
        // What cannot be a route stops the start: nothing is read, no route set up.
        let errors = options.routeErrors()
        for error in errors { Sys.diagnostic("route: " + error) }
        if !errors.isEmpty { return .config }
        if arguments.contains("--check") { return .ok }
        let runner: RouteRunner
        do { runner = try RouteRunner(options: options) } catch {
            Sys.diagnostic("route: \(error)")
            return .software
        }
        return runner.run()
    }
}
