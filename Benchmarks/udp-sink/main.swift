// udp-sink: a local syslog receiver for the benchmark — counts the datagrams on a UDP port and measures
// how long each took from the time its message carries (the record's time, RFC 3339 after `<PRI>1 `, as
// rfc5424 and Docker's rfc5424micro write it) to its arrival here. Reads the socket in C-speed loops, so
// it keeps up with any one sender on this machine.
//
//     udp-sink        prints its port on the first line of standard output, then answers every line read
//                     on standard input with one line:
//                     COUNT FIRST_NS LAST_NS LATENCIES P50_US P99_US MAX_US
//                     (datagrams so far, wall-clock nanoseconds of the first and last arrival, and the
//                     latencies since the last `r` line); `r` also starts the latencies over. Exits at the
//                     end of standard input.

import Syscall
#if canImport(Glibc)
import Glibc
#endif

let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
var size: Int32 = 64 << 20
if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, 4) != 0 {
    _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, 4)
}
var address = sockaddr_in()
address.sin_family = sa_family_t(AF_INET)
address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
var length = socklen_t(MemoryLayout<sockaddr_in>.size)
let bound = withUnsafeMutablePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
}
guard fd >= 0, bound else {
    Sys.diagnostic("udp-sink: cannot bind a UDP socket on 127.0.0.1")
    exit(69)
}
/// One line on standard output, unbuffered.
func say(_ line: String) {
    var bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress, $0.count) }
}

say("\(UInt16(bigEndian: address.sin_port))")

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
func days(_ y0: Int, _ m: Int, _ d: Int) -> Int {
    let y = m <= 2 ? y0 - 1 : y0
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
    return era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// The message's time in microseconds since the epoch, or nil: `<PRI>1 YYYY-MM-DDTHH:MM:SS[.f…](Z|±hh:mm)`.
func messageTime(_ p: UnsafeRawBufferPointer) -> Int? {
    var i = 0
    while i < min(p.count, 6), p[i] != UInt8(ascii: ">") { i += 1 }
    i += 1
    guard i + 2 < p.count, p[i] == UInt8(ascii: "1"), p[i + 1] == UInt8(ascii: " ") else { return nil }
    i += 2
    func number(_ from: Int, _ width: Int) -> Int? {
        guard from + width <= p.count else { return nil }
        var n = 0
        for j in from..<from + width {
            let c = Int(p[j]) - 48
            guard c >= 0, c <= 9 else { return nil }
            n = n * 10 + c
        }
        return n
    }
    guard let year = number(i, 4), let month = number(i + 5, 2), let day = number(i + 8, 2),
          let hour = number(i + 11, 2), let minute = number(i + 14, 2), let second = number(i + 17, 2) else { return nil }
    i += 19
    var micros = 0
    if i < p.count, p[i] == UInt8(ascii: ".") {
        i += 1
        var digits = 0
        while i < p.count, p[i] >= 48, p[i] <= 57 {
            if digits < 6 { micros = micros * 10 + Int(p[i]) - 48 }
            digits += 1
            i += 1
        }
        while digits < 6 { micros *= 10; digits += 1 }
    }
    var offset = 0
    if i < p.count, p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-"), let h = number(i + 1, 2), let m = number(i + 4, 2) {
        offset = (h * 60 + m) * 60 * (p[i] == UInt8(ascii: "+") ? 1 : -1)
    }
    let seconds = ((days(year, month, day) * 24 + hour) * 60 + minute) * 60 + second - offset
    return seconds * 1_000_000 + micros
}

let bucketMicros = 10
var histogram = [UInt32](repeating: 0, count: 1_000_000)   // 10 µs buckets up to 10 s; later in the last
var latencies = 0
var count = 0
var first = 0
var last = 0
var buffer = [UInt8](repeating: 0, count: 65_536)
var input = [UInt8]()
var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: 0, events: Int16(POLLIN), revents: 0)]

@MainActor func percentile(_ q: Double) -> Int {
    guard latencies > 0 else { return 0 }
    let rank = max(1, Int((Double(latencies) * q).rounded(.up)))
    var seen = 0
    for (i, n) in histogram.enumerated() where n > 0 {
        seen += Int(n)
        if seen >= rank { return (i + 1) * bucketMicros }
    }
    return histogram.count * bucketMicros
}

@MainActor func answer(reset: Bool) {
    var top = 0
    for i in stride(from: histogram.count - 1, through: 0, by: -1) where histogram[i] > 0 { top = (i + 1) * bucketMicros; break }
    say("\(count) \(first) \(last) \(latencies) \(percentile(0.5)) \(percentile(0.99)) \(top)")
    if reset {
        for i in histogram.indices { histogram[i] = 0 }
        latencies = 0
    }
}

while true {
    guard poll(&fds, 2, -1) >= 0 || errno == EINTR else { exit(1) }
    if fds[0].revents != 0 {
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n < 0 { break }
            let (s, ns) = Sys.realtime()
            let now = Int(s) * 1_000_000_000 + Int(ns)
            if count == 0 { first = now }
            count += 1
            last = now
            if let sent = buffer.withUnsafeBytes({ messageTime(UnsafeRawBufferPointer(rebasing: $0[..<n])) }) {
                let bucket = min(histogram.count - 1, max(0, (now / 1000 - sent) / bucketMicros))
                histogram[bucket] += 1
                latencies += 1
            }
        }
    }
    if fds[1].revents != 0 {
        let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        if n <= 0 { exit(0) }
        for byte in buffer[..<n] {
            if byte == UInt8(ascii: "\n") {
                answer(reset: input.first == UInt8(ascii: "r"))
                input.removeAll(keepingCapacity: true)
            } else {
                input.append(byte)
            }
        }
    }
}
