// udp-ceiling: what this machine's kernel allows — sendmmsg of N datagrams of SIZE bytes to a local UDP
// port, in batches of 1024, doing nothing else. emit-syslog's datagram rate is reported against it, and
// the CPU time per datagram (almost all of it the kernel's: on loopback the sender also pays for the
// receiving socket's queueing) is the floor of emit-syslog's cost per message over UDP.
//
// With EVERY_MS and BATCH it sends BATCH datagrams every EVERY_MS milliseconds instead, sleeping between:
// the transport's own cost at a trickle, where emit-syslog sends one batch per linger of attach's.
//
//     udp-ceiling PORT [COUNT] [SIZE] [EVERY_MS BATCH]

import Syscall
#if canImport(Glibc)
import Glibc
#endif

let args = CommandLine.arguments
guard args.count >= 2, let port = UInt16(args[1]) else {
    Sys.diagnostic("usage: udp-ceiling PORT [COUNT] [SIZE]")
    exit(64)
}
let count = args.count > 2 ? Int(args[2]) ?? 1_000_000 : 1_000_000
let size = args.count > 3 ? Int(args[3]) ?? 150 : 150
let everyMs = args.count > 5 ? max(1, Int(args[4]) ?? 40) : 0
let batch = everyMs > 0 ? min(1024, max(1, Int(args[5]) ?? 1)) : 1024

do {
    guard let address = try Sys.resolve(host: "127.0.0.1", port: port, kind: .udp).first else { exit(69) }
    let fd = try Sys.socket(for: address, kind: .udp)
    _ = try Sys.connect(fd, to: address)
    let buffer = [UInt8](repeating: UInt8(ascii: "x"), count: size * 1024)
    let ranges = (0..<1024).map { $0 * size..<($0 + 1) * size }
    var sent = 0
    let start = Sys.monotonicNanos()
    let cpuStart = Sys.processCPUNanos()
    try buffer.withUnsafeBytes { raw in
        var due = Sys.monotonicNanos()
        while sent < count {
            if everyMs > 0 {
                let now = Sys.monotonicNanos()
                if due > now { Sys.sleep(microseconds: (due - now) / 1000) }
                due += UInt64(everyMs) * 1_000_000
            }
            do throws(SyscallError) {
                sent += try Sys.sendmmsg(fd, raw, ranges[0..<min(batch, count - sent)])
            } catch {
                if error.errno != .wouldBlock { throw error }
                _ = try Sys.poll(fd, events: 4, timeout: 10)
            }
        }
    }
    let seconds = Double(Sys.monotonicNanos() - start) / 1e9
    let cpu = Double(Sys.processCPUNanos() - cpuStart) / 1e3 / Double(max(sent, 1))
    let perDatagram = (cpu * 100).rounded() / 100
    print("udp-ceiling: \(sent) datagrams of \(size) B" + (everyMs > 0 ? ", \(batch) every \(everyMs) ms," : "") + " in \(seconds) s: \(Int(Double(sent) / seconds)) datagrams/s, "
          + "\(perDatagram) µs CPU per datagram")
} catch {
    Sys.diagnostic("udp-ceiling: \(error)")
    exit(1)
}
