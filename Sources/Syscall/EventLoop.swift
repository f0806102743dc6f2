import CSyscall
#if canImport(Glibc)
import Glibc
#endif

/// What a descriptor is watched for (interest), or what `epoll` reported for it (readiness).
public struct IOEvents: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Readable interest (level-triggered); hang-up and error are always reported.
    public static let readable = IOEvents(rawValue: EPOLLIN.rawValue | EPOLLRDHUP.rawValue)
    /// Writable interest.
    public static let writable = IOEvents(rawValue: EPOLLOUT.rawValue)
    /// The events that mean "look at this socket": input, or the peer or the connection gone.
    public static let inputOrHangup = IOEvents(rawValue: EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue)

    /// Whether the descriptor can take output (EPOLLOUT).
    public var canWrite: Bool { rawValue & EPOLLOUT.rawValue != 0 }
    /// Whether there is input to read, or the peer or the connection is gone.
    public var hasInputOrHangup: Bool { !isDisjoint(with: .inputOrHangup) }
}

/// A signal an event loop takes through its signalfd.
public struct Signal: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    public static let terminate = Signal(SIGTERM)
    public static let interrupt = Signal(SIGINT)
    public static let hangup = Signal(SIGHUP)
    public static let user1 = Signal(SIGUSR1)

    public var description: String { String(cString: strsignal(rawValue)) }
}

/// One thread's event loop: an `epoll(7)` set, a `signalfd(2)`, deadlines, and the handlers they call.
///
/// Descriptors are registered with an interest and a handler, which runs with the ready events; deadlines
/// (monotonic nanoseconds, `Sys.monotonicNanos`) call theirs once they are due. `run` waits, dispatches,
/// fires what is due, and goes on until `stop()`. Everything is set up in `init`; nothing allocates per
/// event (the ready events land in one buffer, handlers live in slots found from the event's token).
///
/// A handler may register, change and unregister descriptors and timers, its own included: an event
/// already received for a descriptor unregistered meanwhile is not delivered, nor is a deadline cancelled
/// or moved meanwhile.
public final class EventLoop {
    public typealias Handler = (IOEvents) -> Void

    /// A registered descriptor.
    public struct Registration: Hashable, Sendable {
        let slot: UInt32
        let generation: UInt32
        var token: UInt64 { UInt64(generation) << 32 | UInt64(slot) }
    }

    /// A deadline and its handler; armed, moved and disarmed as often as needed, until cancelled.
    public struct Timer: Hashable, Sendable {
        let slot: UInt32
        let generation: UInt32
    }

    struct DescriptorSlot {
        var fd: Int32 = -1
        var generation: UInt32 = 0
        var handler: Handler?
    }

    struct TimerSlot {
        var generation: UInt32 = 0
        var handler: (() -> Void)?
        /// When the timer fires at the latest: the key of `heap`.
        var deadline: UInt64 = 0
        /// When it may fire, if the loop is awake anyway (`deadline` minus the slack it was armed with).
        var earliest: UInt64 = 0
        /// Arming order, so deadlines that tie fire in the order they were set.
        var sequence: UInt64 = 0
        /// Where the timer sits in `heap`; -1 when not armed.
        var heapIndex = -1
        /// Taken off the heap as due in this turn, not yet fired.
        var due = false
        /// Cancelled by itself once it fired (`schedule`).
        var oneShot = false
    }

    let epfd: Int32
    let signalFD: Int32
    let events: UnsafeMutablePointer<epoll_event>
    let capacity: Int
    var descriptors: [DescriptorSlot] = []
    var freeDescriptors: [UInt32] = []
    var timers: [TimerSlot] = []
    var freeTimers: [UInt32] = []
    /// Armed timers, a binary min-heap on (deadline, sequence).
    var heap: [UInt32] = []
    var sequence: UInt64 = 0
    /// The timers taken off the heap in this turn (reused, so firing allocates nothing).
    var dueNow: [Timer] = []
    /// The slots of the timers armed with a slack (few: metrics and health files), looked at after each turn.
    var slackSlots: [UInt32] = []

    static let signalToken = UInt64.max

    /// Called with each signal received (one of those given to `init`).
    public var onSignal: (Signal) -> Void = { _ in }
    /// Set by `stop()`: `run` returns, and no further event or deadline of the turn is dispatched.
    public private(set) var isStopped = false

    /// An epoll set (`epoll_create1`) able to report `capacity` descriptors per wake-up, and, when
    /// `signals` is not empty, a signalfd for them in it. The signals are blocked for the calling thread
    /// (create the loop before starting other threads, which inherit the mask).
    public init(signals: [Signal] = [], capacity: Int = 256) throws(SyscallError) {
        let epfd = try Sys.retrying("epoll_create1", "") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        var signalFD: Int32 = -1
        if !signals.isEmpty {
            var mask = sigset_t()
            sigemptyset(&mask)
            for s in signals { sigaddset(&mask, s.rawValue) }
            do throws(SyscallError) {
                _ = try Sys.retrying("sigprocmask", "") { sigprocmask(SIG_BLOCK, &mask, nil) }
                signalFD = try Sys.retrying("signalfd", "") { signalfd(-1, &mask, Int32(SFD_CLOEXEC | SFD_NONBLOCK)) }
                var ev = epoll_event()
                ev.events = IOEvents.readable.rawValue
                ev.data.u64 = Self.signalToken
                _ = try Sys.retrying("epoll_ctl", "add signalfd") { epoll_ctl(epfd, EPOLL_CTL_ADD, signalFD, &ev) }
            } catch {
                if signalFD >= 0 { Sys.close(signalFD) }
                Sys.close(epfd)
                throw error
            }
        }
        self.epfd = epfd
        self.signalFD = signalFD
        self.capacity = max(1, capacity)
        events = .allocate(capacity: self.capacity)
        events.initialize(repeating: epoll_event(), count: self.capacity)
        dueNow.reserveCapacity(16)
    }

    deinit {
        events.deallocate()
        if signalFD >= 0 { Sys.close(signalFD) }
        Sys.close(epfd)
    }

    /// A slot of `slots` for a new entry: one released earlier, else `empty` added at the end.
    static func take<Slot>(_ slots: inout [Slot], _ free: inout [UInt32], _ empty: Slot) -> UInt32 {
        if let slot = free.popLast() { return slot }
        slots.append(empty)
        return UInt32(slots.count - 1)
    }

    // MARK: - Descriptors

    /// Watches `fd` for `interest`; `handler` runs with the ready events each time it is ready (hang-up
    /// and error are reported whatever the interest). Throws what `epoll_ctl` says (EPERM: a regular file
    /// or /dev/null, which are always ready and cannot be watched).
    @discardableResult
    public func register(_ fd: Int32, interest: IOEvents = .readable, _ handler: @escaping Handler) throws(SyscallError) -> Registration {
        let slot = Self.take(&descriptors, &freeDescriptors, DescriptorSlot())
        let registration = Registration(slot: slot, generation: descriptors[Int(slot)].generation)
        var ev = epoll_event()
        ev.events = interest.rawValue
        ev.data.u64 = registration.token
        do throws(SyscallError) {
            _ = try Sys.retrying("epoll_ctl", "add") { epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) }
        } catch {
            freeDescriptors.append(slot)
            throw error
        }
        descriptors[Int(slot)].fd = fd
        descriptors[Int(slot)].handler = handler
        return registration
    }

    /// Changes what a registered descriptor is watched for (`EPOLL_CTL_MOD`); an empty interest still
    /// reports hang-up and error.
    public func modify(_ registration: Registration, interest: IOEvents) throws(SyscallError) {
        guard let fd = descriptor(of: registration) else { return }
        var ev = epoll_event()
        ev.events = interest.rawValue
        ev.data.u64 = registration.token
        _ = try Sys.retrying("epoll_ctl", "modify") { epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) }
    }

    /// Stops watching a descriptor (before closing it); its handler is released and an event already
    /// received for it is not delivered. Unregistering twice is harmless.
    public func unregister(_ registration: Registration) {
        guard let fd = descriptor(of: registration) else { return }
        var ev = epoll_event()
        _ = epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &ev)  // a descriptor already closed is fine
        let i = Int(registration.slot)
        descriptors[i].fd = -1
        descriptors[i].handler = nil
        descriptors[i].generation &+= 1
        freeDescriptors.append(registration.slot)
    }

    /// The descriptor of a registration still in force.
    func descriptor(of registration: Registration) -> Int32? {
        let i = Int(registration.slot)
        guard i < descriptors.count, descriptors[i].generation == registration.generation, descriptors[i].fd >= 0 else { return nil }
        return descriptors[i].fd
    }

    /// How many descriptors are registered (the signalfd aside).
    public var registeredCount: Int { descriptors.count - freeDescriptors.count }

    // MARK: - Deadlines

    /// A timer that calls `handler` when the deadline it is armed with is due; not armed yet.
    public func makeTimer(_ handler: @escaping () -> Void) -> Timer {
        let slot = Self.take(&timers, &freeTimers, TimerSlot())
        timers[Int(slot)].handler = handler
        return Timer(slot: slot, generation: timers[Int(slot)].generation)
    }

    /// A one-shot deadline: `handler` runs once at `deadline`, then the timer is gone (cancel it before
    /// to prevent it).
    @discardableResult
    public func schedule(at deadline: UInt64, _ handler: @escaping () -> Void) -> Timer {
        let timer = makeTimer(handler)
        timers[Int(timer.slot)].oneShot = true
        arm(timer, at: deadline)
        return timer
    }

    /// Arms `timer` for `deadline` (monotonic nanoseconds), or moves it there when it was armed.
    public func arm(_ timer: Timer, at deadline: UInt64) {
        arm(timer, at: deadline, slack: 0)
    }

    /// Arms `timer` for `deadline`, or later by up to `slack` nanoseconds: it fires after the first turn
    /// that ends at or after `deadline` (the loop woke for something else), and wakes the loop itself only
    /// at `deadline + slack`. Work that need not be punctual (a metrics file) then rides on the wake-ups
    /// the loop has anyway instead of adding its own.
    public func arm(_ timer: Timer, at deadline: UInt64, slack: UInt64) {
        guard isValid(timer) else { return }
        let i = Int(timer.slot)
        sequence &+= 1
        timers[i].earliest = deadline
        timers[i].deadline = deadline &+ slack < deadline ? UInt64.max : deadline &+ slack
        timers[i].sequence = sequence
        timers[i].due = false
        if slack > 0, !slackSlots.contains(timer.slot) { slackSlots.append(timer.slot) }
        if timers[i].heapIndex < 0 {
            timers[i].heapIndex = heap.count
            heap.append(timer.slot)
        }
        let at = timers[i].heapIndex
        siftUp(at)
        siftDown(timers[i].heapIndex)
    }

    /// Takes `timer`'s deadline away (it stays usable).
    public func disarm(_ timer: Timer) {
        guard isValid(timer) else { return }
        let i = Int(timer.slot)
        timers[i].due = false
        if timers[i].heapIndex >= 0 { removeFromHeap(timers[i].heapIndex) }
    }

    /// The deadline `timer` is armed with (without its slack); nil when it is not armed (or fired, or was
    /// cancelled).
    public func deadline(of timer: Timer) -> UInt64? {
        guard isValid(timer) else { return nil }
        let i = Int(timer.slot)
        return timers[i].heapIndex >= 0 || timers[i].due ? timers[i].earliest : nil
    }

    /// Whether `timer` is armed (a deadline not fired yet).
    public func isArmed(_ timer: Timer) -> Bool { deadline(of: timer) != nil }

    /// Disarms `timer` for good and releases its handler. Cancelling twice, or a one-shot that fired, is
    /// harmless.
    public func cancel(_ timer: Timer) {
        guard isValid(timer) else { return }
        disarm(timer)
        let i = Int(timer.slot)
        timers[i].handler = nil
        timers[i].oneShot = false
        timers[i].generation &+= 1
        freeTimers.append(timer.slot)
    }

    /// How many timers exist (armed or not).
    public var timerCount: Int { timers.count - freeTimers.count }

    func isValid(_ timer: Timer) -> Bool {
        let i = Int(timer.slot)
        return i < timers.count && timers[i].generation == timer.generation && timers[i].handler != nil
    }

    @inline(__always)
    func earlier(_ a: UInt32, _ b: UInt32) -> Bool {
        let x = timers[Int(a)], y = timers[Int(b)]
        return x.deadline < y.deadline || (x.deadline == y.deadline && x.sequence < y.sequence)
    }

    func place(_ slot: UInt32, at index: Int) {
        heap[index] = slot
        timers[Int(slot)].heapIndex = index
    }

    func siftUp(_ start: Int) {
        var i = start
        let slot = heap[i]
        while i > 0 {
            let parent = (i - 1) / 2
            guard earlier(slot, heap[parent]) else { break }
            place(heap[parent], at: i)
            i = parent
        }
        place(slot, at: i)
    }

    func siftDown(_ start: Int) {
        var i = start
        let slot = heap[i]
        let n = heap.count
        while true {
            let left = 2 * i + 1
            guard left < n else { break }
            var child = left
            if left + 1 < n, earlier(heap[left + 1], heap[left]) { child = left + 1 }
            guard earlier(heap[child], slot) else { break }
            place(heap[child], at: i)
            i = child
        }
        place(slot, at: i)
    }

    func removeFromHeap(_ index: Int) {
        let slot = heap[index]
        timers[Int(slot)].heapIndex = -1
        let last = heap.removeLast()
        guard index < heap.count else { return }
        place(last, at: index)
        siftUp(index)
        siftDown(timers[Int(last)].heapIndex)
    }

    /// When the loop must wake next for a timer (the earliest deadline, slack included).
    public var nextDeadline: UInt64? { heap.first.map { timers[Int($0)].deadline } }

    /// Fires the timers due at `now`, earliest first, then those armed with a slack whose deadline has
    /// come (their slack not run out). Timers armed while firing wait for the next turn.
    func fireDue(now: UInt64) {
        while let top = heap.first, timers[Int(top)].deadline <= now {
            removeFromHeap(0)
            timers[Int(top)].due = true
            dueNow.append(Timer(slot: top, generation: timers[Int(top)].generation))
        }
        if !slackSlots.isEmpty {
            var kept = 0
            for k in slackSlots.indices {
                let slot = slackSlots[k], i = Int(slot)
                // No longer armed with a slack (fired, disarmed, cancelled, armed again without): dropped.
                guard timers[i].heapIndex >= 0, timers[i].earliest != timers[i].deadline else { continue }
                if timers[i].earliest <= now {
                    removeFromHeap(timers[i].heapIndex)
                    timers[i].due = true
                    dueNow.append(Timer(slot: slot, generation: timers[i].generation))
                    continue
                }
                slackSlots[kept] = slot
                kept += 1
            }
            slackSlots.removeSubrange(kept...)
        }
        var k = 0
        while k < dueNow.count, !isStopped {
            let timer = dueNow[k]
            k += 1
            let i = Int(timer.slot)
            // Cancelled, disarmed or armed again by an earlier handler of this turn: not now.
            guard isValid(timer), timers[i].due, let handler = timers[i].handler else { continue }
            timers[i].due = false
            if timers[i].oneShot { cancel(timer) }
            handler()
        }
        // Stopped before all fired: those left keep their deadline.
        while k < dueNow.count {
            let timer = dueNow[k]
            k += 1
            if isValid(timer), timers[Int(timer.slot)].due { arm(timer, at: timers[Int(timer.slot)].deadline) }
        }
        dueNow.removeAll(keepingCapacity: true)
    }

    // MARK: - Running

    /// One turn: waits for events until the next deadline (at most `timeout` ms; -1: no limit besides
    /// the deadlines), dispatches them, then fires the deadlines that are due.
    public func turn(timeout: Int32 = -1) throws(SyscallError) {
        var wait = timeout
        if let next = nextDeadline {
            let now = Sys.monotonicNanos()
            let ms = next <= now ? 0 : Int32(min((next - now + 999_999) / 1_000_000, 60_000))
            if wait < 0 || ms < wait { wait = ms }
        }
        let n = try Sys.retrying("epoll_wait", "") { epoll_wait(epfd, events, Int32(capacity), wait) }
        for k in 0..<Int(n) {
            if isStopped { return }
            let token = events[k].data.u64
            if token == Self.signalToken {
                drainSignals()
                continue
            }
            let i = Int(truncatingIfNeeded: token & 0xffff_ffff)
            guard i < descriptors.count, descriptors[i].generation == UInt32(truncatingIfNeeded: token >> 32),
                  let handler = descriptors[i].handler else { continue }
            handler(IOEvents(rawValue: events[k].events))
        }
        if !isStopped, !heap.isEmpty { fireDue(now: Sys.monotonicNanos()) }
    }

    /// Turns until `stop()`, calling `afterEach` after every turn (batch work: flushing what the turn's
    /// handlers queued, checking whether the work is done).
    public func run(afterEach: () -> Void = {}) throws(SyscallError) {
        while !isStopped {
            try turn()
            if isStopped { return }
            afterEach()
        }
    }

    /// Ends `run` after the handler that calls it.
    public func stop() { isStopped = true }

    func drainSignals() {
        var info = signalfd_siginfo()
        while true {
            let n = withUnsafeMutableBytes(of: &info) { Glibc.read(signalFD, $0.baseAddress, $0.count) }
            if n != MemoryLayout<signalfd_siginfo>.size { return }
            onSignal(Signal(Int32(info.ssi_signo)))
        }
    }
}
