#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Syscall
import Testing

@Suite("threads: a job on a thread of its own, a serial worker")
struct ThreadsTests {
    /// Polls until `done` holds (at most 10 s).
    func wait(_ done: () -> Bool) -> Bool {
        for _ in 0..<10_000 where !done() { usleep(1000) }
        return done()
    }

    @Test("startThread runs its job on another thread")
    func startThread() throws {
        let caller = UInt(pthread_self())
        let seen = Mutex<UInt?>(nil)
        try Sys.startThread { seen.withLock { $0 = UInt(pthread_self()) } }
        #expect(wait { seen.withLock { $0 != nil } })
        #expect(seen.withLock { $0 } != caller)
    }

    @Test("a serial worker runs every job once, in order, one at a time, also after it went idle")
    func serialWorker() {
        let worker = SerialWorker()
        let log = Mutex<(order: [Int], running: Int, most: Int)>(([], 0, 0))
        for round in 0..<2 {
            for i in 0..<200 {
                let n = round * 200 + i
                worker.run {
                    log.withLock { $0.running += 1; $0.most = max($0.most, $0.running) }
                    if n % 50 == 0 { usleep(1000) }
                    log.withLock { $0.order.append(n); $0.running -= 1 }
                }
            }
            #expect(wait { log.withLock { $0.order.count } == (round + 1) * 200 })
            usleep(20_000)  // the worker's thread ends with no job left; the next round starts another
        }
        #expect(log.withLock { $0.order } == Array(0..<400))
        #expect(log.withLock { $0.most } == 1)
    }
}
