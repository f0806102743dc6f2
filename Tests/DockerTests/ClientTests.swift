import JSON
import Testing
@testable import Docker

@Suite("DOCKER_HOST")
struct EndpointTests {
    @Test("unix and tcp forms", arguments: [
        ("unix:///var/run/docker.sock", DockerEndpoint.unix("/var/run/docker.sock")),
        ("/tmp/docker.sock", .unix("/tmp/docker.sock")),
        ("tcp://127.0.0.1:2375", .tcp(host: "127.0.0.1", port: 2375)),
        ("tcp://docker:2376/", .tcp(host: "docker", port: 2376)),
        ("tcp://[::1]:2375", .tcp(host: "::1", port: 2375)),
        ("tcp://localhost", .tcp(host: "localhost", port: 2375)),
    ])
    func parses(text: String, expected: DockerEndpoint) throws {
        #expect(try DockerEndpoint.parse(text) == expected)
    }

    @Test("bad values are errors", arguments: ["unix://relative", "ftp://x", "tcp://:80", "tcp://h:0", "tcp://h:99999"])
    func bad(text: String) {
        #expect(throws: DockerError.self) { try DockerEndpoint.parse(text) }
    }

    @Test("the default is /tmp/docker.sock when it exists, else /var/run/docker.sock")
    func defaults() throws {
        #expect(try DockerEndpoint.resolve(dockerHost: nil, exists: { _ in true }) == .unix("/tmp/docker.sock"))
        #expect(try DockerEndpoint.resolve(dockerHost: nil, exists: { _ in false }) == .unix("/var/run/docker.sock"))
        #expect(try DockerEndpoint.resolve(dockerHost: "", exists: { _ in false }) == .unix("/var/run/docker.sock"))
        #expect(try DockerEndpoint.resolve(dockerHost: "tcp://h:1", exists: { _ in true }) == .tcp(host: "h", port: 1))
    }
}

@Suite("Container inspect")
struct InspectTests {
    @Test("the fields attach uses are read")
    func fields() throws {
        let doc = try JSONValue.parse("""
            {"Id":"abc123","Name":"/web","State":{"Running":true,"Pid":42},
             "Config":{"Image":"nginx:1.27","Hostname":"abc123","Tty":true,"Env":["A=1","LOGSPOUT=ignore"],
                       "Labels":{"team":"db","x":"y"}}}
            """)
        let info = try ContainerInfo(inspect: doc)
        #expect(info == ContainerInfo(id: "abc123", name: "web", image: "nginx:1.27", hostname: "abc123", pid: 42,
                                      labels: ["team": "db", "x": "y"], env: ["A=1", "LOGSPOUT=ignore"], tty: true, running: true))
    }

    @Test("missing fields take defaults; a missing Id is an error")
    func defaults() throws {
        let info = try ContainerInfo(inspect: try JSONValue.parse(#"{"Id":"x","Config":{"Labels":null,"Env":null}}"#))
        #expect(info.name == "" && info.pid == 0 && info.labels.isEmpty && !info.running)
        #expect(throws: DockerError.self) { try ContainerInfo(inspect: try JSONValue.parse("{}")) }
    }
}

@Suite("API version negotiation")
struct VersionTests {
    @Test("1.25 and newer are accepted", arguments: ["1.25", "1.41", "1.52", "2.0"])
    func accepted(version: String) throws {
        try DockerClient.checkVersion(version, endpoint: .unix("/s"))
    }

    @Test("older or unreadable versions are refused with a message", arguments: [
        ("1.24", "unix:///s: the engine speaks API 1.24; attach needs 1.25 or newer"),
        ("1.9", "unix:///s: the engine speaks API 1.9; attach needs 1.25 or newer"),
        ("abc", "unix:///s: unreadable Api-Version 'abc'"),
        ("1.", "unix:///s: unreadable Api-Version '1.'"),
    ])
    func refused(version: String, message: String) {
        #expect(performing: { try DockerClient.checkVersion(version, endpoint: .unix("/s")) },
                throws: { ($0 as? DockerError)?.message == message })
    }
}
