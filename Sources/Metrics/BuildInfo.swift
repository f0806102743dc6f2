/// What was built: logspout's version and the Swift compiler's, for `logspout_build_info`.
public enum BuildInfo {
    /// logspout's version; changed with each release.
    public static let version = "0.1.0"

    /// The Swift compiler that built it, major.minor.
    public static let swift: String = {
        #if compiler(>=6.5)
        return "6.5+"
        #elseif compiler(>=6.4)
        return "6.4"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }()
}
