#if canImport(Glibc)
import Glibc
#endif
@testable import Syscall
import Testing

/// A pipe: (read end, write end), both non-blocking.
func makePipe() throws -> (Int32, Int32) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw SyscallError("pipe", "", .current) }
    try Sys.setNonBlocking(fds[0])
    try Sys.setNonBlocking(fds[1])
    return (fds[0], fds[1])
}

/// Turns until `done` or 2 s have passed.
func turn(_ loop: EventLoop, until done: () -> Bool) throws {
    let end = Sys.monotonicNanos() + 2_000_000_000
    while !done(), Sys.monotonicNanos() < end { try loop.turn(timeout: 50) }
}

@Suite("the event loop: descriptors, deadlines, signals")
struct EventLoopTests {
    @Test("a readable pipe calls its handler with readable events; nothing else wakes the loop")
    func readablePipe() throws {
        let loop = try EventLoop()
        let (r, w) = try makePipe()
        defer { Sys.close(r); Sys.close(w) }
        var got: [UInt8] = []
        var calls = 0
        try loop.register(r) { events in
            calls += 1
            #expect(events.hasInputOrHangup)
            var buffer = [UInt8](repeating: 0, count: 16)
            let n = (try? Sys.read(r, into: &buffer)) ?? 0
            got += buffer[0..<n]
        }
        try loop.turn(timeout: 0)
        #expect(calls == 0)
        try Sys.writeAll(w, Array("hi".utf8))
        try turn(loop) { !got.isEmpty }
        #expect(got == Array("hi".utf8))
        #expect(calls == 1)
        try loop.turn(timeout: 0)
        #expect(calls == 1, "level-triggered: nothing left to read, no call")
    }

    @Test("interest can change: writable on, then off; hang-up reaches a handler whatever its interest")
    func modifyInterest() throws {
        let loop = try EventLoop()
        let (r, w) = try makePipe()
        defer { Sys.close(r) }
        var writable = 0
        var hangups = 0
        let registration = try loop.register(w, interest: .writable) { events in
            if events.canWrite { writable += 1 }
            if events.hasInputOrHangup { hangups += 1 }  // EPOLLERR
        }
        try loop.turn(timeout: 0)
        #expect(writable == 1)
        try loop.modify(registration, interest: [])
        try loop.turn(timeout: 0)
        #expect(writable == 1)
        Sys.close(r)  // the reader is gone: EPOLLERR on the write end, even with no interest
        try loop.turn(timeout: 0)
        #expect(hangups == 1)
        loop.unregister(registration)
        Sys.close(w)
        #expect(loop.registeredCount == 0)
    }

    @Test("a handler that unregisters another descriptor ready in the same turn: that one is not called")
    func unregisterDuringDispatch() throws {
        let loop = try EventLoop()
        let a = try Sys.eventfd(), b = try Sys.eventfd()
        defer { Sys.close(a); Sys.close(b) }
        var called: [String] = []
        var regA: EventLoop.Registration?
        var regB: EventLoop.Registration?
        regA = try loop.register(a) { _ in
            called.append("a")
            Sys.drainEvent(a)
            loop.unregister(regB!)
        }
        regB = try loop.register(b) { _ in
            called.append("b")
            Sys.drainEvent(b)
            loop.unregister(regA!)
        }
        Sys.signalEvent(a)
        Sys.signalEvent(b)
        try turn(loop) { !called.isEmpty }
        try loop.turn(timeout: 0)
        #expect(called == ["a"] || called == ["b"], "\(called)")
        #expect(loop.registeredCount == 1)
    }

    @Test("a slot freed and taken again in the same turn does not get the old descriptor's event")
    func slotReuse() throws {
        let loop = try EventLoop()
        let a = try Sys.eventfd(), b = try Sys.eventfd(), c = try Sys.eventfd()
        defer { Sys.close(a); Sys.close(b); Sys.close(c) }
        var called: [String] = []
        var regs: [Int32: EventLoop.Registration] = [:]
        // Whichever of a and b runs first replaces the other with c (not ready): c must not be called.
        func handler(_ me: Int32, _ other: Int32, _ name: String) -> EventLoop.Handler {
            { _ in
                called.append(name)
                Sys.drainEvent(me)
                if let o = regs[other] {
                    loop.unregister(o)
                    regs[other] = nil
                    regs[c] = try? loop.register(c) { _ in called.append("c") }
                }
            }
        }
        regs[a] = try loop.register(a, handler(a, b, "a"))
        regs[b] = try loop.register(b, handler(b, a, "b"))
        Sys.signalEvent(a)
        Sys.signalEvent(b)
        try turn(loop) { !called.isEmpty }
        try loop.turn(timeout: 0)
        #expect(called == ["a"] || called == ["b"], "\(called)")
        Sys.signalEvent(c)
        try turn(loop) { called.count == 2 }
        #expect(called.last == "c")
    }

    @Test("deadlines fire in order, ties in the order they were set")
    func deadlineOrder() throws {
        let loop = try EventLoop()
        let now = Sys.monotonicNanos()
        var fired: [Int] = []
        loop.schedule(at: now + 3_000_000) { fired.append(3) }
        loop.schedule(at: now + 1_000_000) { fired.append(1) }
        loop.schedule(at: now + 2_000_000) { fired.append(2) }
        loop.schedule(at: now + 2_000_000) { fired.append(22) }
        loop.schedule(at: now) { fired.append(0) }
        try turn(loop) { fired.count == 5 }
        #expect(fired == [0, 1, 2, 22, 3])
        #expect(loop.timerCount == 0, "one-shot timers are gone once fired")
        #expect(loop.nextDeadline == nil)
    }

    @Test("a timer armed with a slack fires on a turn the loop makes anyway once its deadline came, else at the slack's end")
    func slack() throws {
        let loop = try EventLoop()
        let start = Sys.monotonicNanos()
        var fired: [String] = []
        let lazy = loop.makeTimer { fired.append("lazy") }
        loop.arm(lazy, at: start + 10_000_000, slack: 10_000_000_000)
        #expect(loop.deadline(of: lazy) == start + 10_000_000)
        #expect(loop.nextDeadline == start + 10_010_000_000, "the loop wakes for it only when the slack ran out")
        // A turn before its deadline: not yet.
        loop.schedule(at: start) { fired.append("early") }
        try loop.turn()
        #expect(fired == ["early"])
        // A turn after its deadline, woken by another timer: it fires then, after the one due.
        loop.schedule(at: start + 30_000_000) { fired.append("other") }
        try loop.turn()
        #expect(fired == ["early", "other", "lazy"])
        #expect(!loop.isArmed(lazy) && loop.nextDeadline == nil)
        // Nothing else wakes the loop: it fires at the end of its slack.
        let t0 = Sys.monotonicNanos()
        loop.arm(lazy, at: t0, slack: 20_000_000)
        try loop.turn(timeout: 0)
        #expect(fired.count == 4, "a turn that ends after the deadline fires it, also one that waited for nothing")
        // Nothing else wakes the loop: it fires when its slack ran out.
        let t1 = Sys.monotonicNanos()
        loop.arm(lazy, at: t1 + 5_000_000, slack: 20_000_000)
        try loop.turn()
        #expect(fired.count == 5 && Sys.monotonicNanos() >= t1 + 25_000_000, "alone, it waits for its slack's end")
        // Armed again without a slack: an ordinary deadline.
        loop.arm(lazy, at: Sys.monotonicNanos() + 1_000_000_000)
        loop.disarm(lazy)
        #expect(loop.nextDeadline == nil)
        try loop.turn(timeout: 0)
        #expect(fired.count == 5)
    }

    @Test("the list of timers with a slack holds each at most once, and none once they are no longer armed with one")
    func slackBounded() throws {
        let loop = try EventLoop()
        let far = Sys.monotonicNanos() + 60_000_000_000
        let timers = (0..<3).map { _ in loop.makeTimer {} }
        for round in 0..<1000 {
            for (k, t) in timers.enumerated() {
                loop.arm(t, at: far + UInt64(round), slack: UInt64(k + 1) * 1_000_000)
                if round % 3 == 0 { loop.arm(t, at: far) }
            }
        }
        #expect(loop.slackSlots.count <= 3)
        for t in timers { loop.arm(t, at: far, slack: 1_000_000) }
        try loop.turn(timeout: 0)
        #expect(loop.slackSlots.count == 3, "armed with a slack, not due: kept")
        loop.disarm(timers[0])
        loop.arm(timers[1], at: far)
        try loop.turn(timeout: 0)
        #expect(loop.slackSlots.count == 1, "only the one still armed with a slack left")
        loop.cancel(timers[2])
        try loop.turn(timeout: 0)
        #expect(loop.slackSlots.isEmpty)
    }

    @Test("the wait ends at the next deadline, not before")
    func waitsForDeadline() throws {
        let loop = try EventLoop()
        let start = Sys.monotonicNanos()
        var at: UInt64 = 0
        loop.schedule(at: start + 20_000_000) { at = Sys.monotonicNanos() }
        try loop.turn()
        #expect(at >= start + 20_000_000)
        #expect(at < start + 1_000_000_000)
    }

    @Test("cancelled, disarmed and moved deadlines; a handler cancelling a timer due in the same turn")
    func cancellation() throws {
        let loop = try EventLoop()
        let now = Sys.monotonicNanos()
        var fired: [String] = []
        let cancelled = loop.schedule(at: now) { fired.append("cancelled") }
        loop.cancel(cancelled)
        loop.cancel(cancelled)  // twice: harmless
        let moved = loop.makeTimer { fired.append("moved") }
        loop.arm(moved, at: now)
        loop.arm(moved, at: now + 5_000_000)
        #expect(loop.deadline(of: moved) == now + 5_000_000)
        let disarmed = loop.makeTimer { fired.append("disarmed") }
        loop.arm(disarmed, at: now)
        loop.disarm(disarmed)
        #expect(!loop.isArmed(disarmed))
        var victim: EventLoop.Timer?
        loop.schedule(at: now) {
            fired.append("first")
            loop.cancel(victim!)
        }
        victim = loop.schedule(at: now) { fired.append("victim") }
        try loop.turn(timeout: 0)
        #expect(fired == ["first"])
        try turn(loop) { fired.count == 2 }
        #expect(fired == ["first", "moved"])
        #expect(!loop.isArmed(moved))
        loop.arm(moved, at: 0)  // a reusable timer fires again when armed again
        try loop.turn(timeout: 0)
        #expect(fired == ["first", "moved", "moved"])
        loop.cancel(moved)
        loop.cancel(disarmed)
        #expect(loop.timerCount == 0)
    }

    @Test("a timer armed again from its own handler fires on the next turn, not in a loop")
    func rearmFromHandler() throws {
        let loop = try EventLoop()
        var count = 0
        var timer: EventLoop.Timer?
        timer = loop.makeTimer {
            count += 1
            loop.arm(timer!, at: 0)
        }
        loop.arm(timer!, at: 0)
        try loop.turn(timeout: 0)
        #expect(count == 1)
        try loop.turn(timeout: 0)
        #expect(count == 2)
        loop.cancel(timer!)
    }

    @Test("many timers armed, moved and cancelled in random order fire in deadline order")
    func heapOrder() throws {
        let loop = try EventLoop()
        var generator = SystemRandomNumberGenerator()
        var fired: [UInt64] = []
        var timers: [EventLoop.Timer] = []
        var deadlines = [UInt64](repeating: 0, count: 500)
        for i in 0..<500 {
            let t = loop.makeTimer { fired.append(deadlines[i]) }
            timers.append(t)
            deadlines[i] = UInt64.random(in: 1...1_000_000, using: &generator)
            loop.arm(t, at: deadlines[i])
        }
        for i in (0..<500).shuffled().prefix(200) {
            deadlines[i] = UInt64.random(in: 1...1_000_000, using: &generator)
            loop.arm(timers[i], at: deadlines[i])
        }
        for t in timers.shuffled().prefix(100) { loop.cancel(t) }
        try loop.turn(timeout: 0)
        #expect(fired.count == 400)
        #expect(fired == fired.sorted())
    }

    @Test("a signal sent to the loop's thread comes out of the signalfd")
    func signals() throws {
        let loop = try EventLoop(signals: [Signal(SIGUSR2)])
        defer {
            var mask = sigset_t()
            sigemptyset(&mask)
            sigaddset(&mask, SIGUSR2)
            sigprocmask(SIG_UNBLOCK, &mask, nil)
        }
        var got: [Signal] = []
        loop.onSignal = { got.append($0) }
        #expect(raise(SIGUSR2) == 0)
        try turn(loop) { !got.isEmpty }
        #expect(got == [Signal(SIGUSR2)])
    }

    @Test("stop ends run after the handler; afterEach runs after every turn but the last")
    func runAndStop() throws {
        let loop = try EventLoop()
        let a = try Sys.eventfd(), b = try Sys.eventfd()
        defer { Sys.close(a); Sys.close(b) }
        var calls = 0
        var turns = 0
        for fd in [a, b] {
            try loop.register(fd) { _ in
                calls += 1
                Sys.drainEvent(fd)
                loop.stop()
            }
        }
        var ticks = 0
        let ticker = loop.makeTimer {}
        loop.arm(ticker, at: 0)
        try loop.run {
            turns += 1
            ticks += 1
            if ticks == 3 {
                Sys.signalEvent(a)
                Sys.signalEvent(b)
            } else {
                loop.arm(ticker, at: 0)
            }
        }
        #expect(calls == 1, "the other ready descriptor waits: the loop stopped")
        #expect(turns == 3)
        #expect(loop.isStopped)
    }

    @Test("a regular file cannot be registered (EPERM), and the loop is unchanged")
    func regularFile() throws {
        let loop = try EventLoop()
        let fd = try Sys.open("/etc/passwd", O_RDONLY)
        defer { Sys.close(fd) }
        #expect(throws: SyscallError("epoll_ctl", "add", Errno(EPERM))) { try loop.register(fd) { _ in } }
        #expect(loop.registeredCount == 0)
    }
}
