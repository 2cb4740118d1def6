import Foundation
import CZlib  // also carries sys/epoll.h and sys/eventfd.h
import Glibc
import Logging
import Synchronization

/// One epoll loop on its own thread. It accepts from the shared listeners (EPOLLEXCLUSIVE, so a
/// new connection wakes one loop), keeps each connection it accepted or hands it to a sibling loop
/// holding fewer (so the loops share the connections evenly however the wake-ups fell), owns the
/// connections it keeps, and receives handler responses and commands through a mailbox signalled
/// by an eventfd.
///
/// The listeners are shared rather than one per loop with SO_REUSEPORT: with SO_REUSEPORT a second
/// server started by mistake on the same port would bind without an error and take a share of the
/// connections.
///
/// `@unchecked Sendable` because it is thread-confined rather than locked: everything but `post`
/// (whose state is behind a lock) and the immutable `let`s is touched only on the loop's own
/// thread, which the compiler cannot see.
final class EventLoop: @unchecked Sendable {
    enum Message {
        case response(connection: UInt64, bytes: [UInt8], close: Bool, status: Int, requestID: String?)
        /// A connection accepted by a sibling loop, already counted in `assigned`.
        case adopt(fd: Int32, remoteAddress: String)
        case beginShutdown(DispatchGroup)
        case stop
    }

    private static let wakeToken: UInt64 = 0
    private static let listenerTokenBase: UInt64 = 1
    private static let connectionTokenBase: UInt64 = 1 << 32
    /// An `epoll_wait` that takes longer than this is taken to have left the core (slept or been
    /// preempted); one that finds events already ready returns in a few microseconds.
    private static let wokeAfter = 0.00005

    let index: Int
    let configuration: ServerConfiguration
    let router: Router
    let handlerPool: HandlerPool
    let logger: Logger
    /// Strong on purpose: a server dropped without shutdown must not leave loops with a dangling
    /// reference. The cycle is broken when shutdown releases its loops.
    private let server: HTTPServer

    private let epollFD: Int32
    private let wakeFD: Int32
    private let listeners: [Int32]
    /// Pending messages, and whether the loop still reads them (its eventfd is closed once it stops).
    private let mailbox = Lock<(messages: [Message], open: Bool)>(([], true))
    private var connections: [UInt64: Connection] = [:]
    /// Connections holding requests already read that wait for another turn (`Connection.requestsPerTurn`).
    private var comingBack: [Connection] = []
    /// Connections this loop holds or has been handed and not yet opened: what a sibling compares
    /// when deciding where a new connection goes.
    let assigned = Atomic<Int>(0)
    /// Every loop of the server, this one included; set before the loops start, cleared when this
    /// one stops (the loops refer to each other).
    var siblings: [EventLoop] = []
    private var nextConnectionID: UInt64
    private var overflowConnections = 0
    private var stopped = false
    private var acceptPausedUntil: Double?
    private(set) var draining = false
    var bodyBudget: BodyBudget { server.bodyBudget }
    /// Monotonic time of the current iteration, so every decision in one wake-up sees one clock.
    private(set) var now = Socket.monotonicNow()
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    /// The Date field's value (IMF-fixdate) for responses serialized on this loop, refreshed at
    /// most once a second, when the loop wakes in a new second.
    /// This loop's copy of the router's table (`Router.refresh`).
    private var routeTable = Router.TableCopy()
    private(set) var date: [UInt8] = []
    private var dateSecond = -1
    private let tick: Double

    init(index: Int, configuration: ServerConfiguration, router: Router, handlerPool: HandlerPool,
         listeners: [Int32], server: HTTPServer, logger: Logger) throws {
        self.index = index
        self.configuration = configuration
        self.router = router
        self.handlerPool = handlerPool
        self.listeners = listeners
        self.server = server
        self.logger = logger
        nextConnectionID = EventLoop.connectionTokenBase + UInt64(index) << 40
        let shortest = min(configuration.headerReadTimeout, configuration.idleTimeout,
                           configuration.bodyStallTimeout, configuration.lingerTimeout)
        tick = max(0.005, min(0.25, shortest / 4))
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw HTTPServerError("epoll_create1: \(Socket.errnoDescription)") }
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard wakeFD >= 0 else {
            Glibc.close(epollFD)
            throw HTTPServerError("eventfd: \(Socket.errnoDescription)")
        }
        add(fd: wakeFD, token: EventLoop.wakeToken, events: EPOLLIN.rawValue)
        registerListeners()
        refreshDate()
    }

    deinit {
        readBuffer.deallocate()
    }

    private func registerListeners() {
        for (i, fd) in listeners.enumerated() {
            add(fd: fd, token: EventLoop.listenerTokenBase + UInt64(i), events: EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue)
        }
    }

    private func unregisterListeners() {
        for fd in listeners { _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil) }
    }

    // MARK: epoll registration

    private func add(fd: Int32, token: UInt64, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = token
        _ = epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event)
    }

    func modify(fd: Int32, token: UInt64, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = token
        _ = epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event)
    }

    // MARK: mailbox

    /// Thread-safe: queues a message and wakes the loop. False when the loop has stopped reading
    /// its mailbox (the message is dropped).
    @discardableResult
    func post(_ message: Message) -> Bool {
        mailbox.withLock { box in
            // After the loop stopped, its eventfd number may belong to someone else: never write then.
            guard box.open else { return false }
            box.messages.append(message)
            // One wake-up per batch: the loop takes every queued message after reading the eventfd.
            if box.messages.count == 1 {
                var one: UInt64 = 1
                _ = write(wakeFD, &one, 8)
            }
            return true
        }
    }

    private func drainMailbox() {
        var counter: UInt64 = 0
        _ = read(wakeFD, &counter, 8)
        let messages = mailbox.withLock { box -> [Message] in
            let taken = box.messages
            box.messages.removeAll(keepingCapacity: true)
            return taken
        }
        for message in messages {
            switch message {
            case .response(let id, let bytes, let close, let status, let requestID):
                connections[id]?.deliver(bytes, close: close, status: status, requestID: requestID)
            case .adopt(let fd, let remoteAddress):
                open(fd: fd, remoteAddress: remoteAddress)
            case .beginShutdown(let group):
                draining = true
                unregisterListeners()
                for connection in Array(connections.values) {
                    if connection.isIdle { connection.close() } else { connection.drainStarted(now: now) }
                }
                group.leave()
            case .stop:
                stopped = true
            }
        }
    }

    // MARK: run loop

    func run() {
        // The kernel's name for the thread too (top -H, perf), not only Foundation's; Glibc's module
        // lacks pthread_setname_np.
        let comm = Glibc.open("/proc/thread-self/comm", O_WRONLY)
        if comm >= 0 {
            let name = Array("http-loop-\(index)".utf8)
            _ = name.withUnsafeBytes { write(comm, $0.baseAddress, $0.count) }
            Glibc.close(comm)
        }
        let capacity = 256
        var events = [epoll_event](repeating: epoll_event(), count: capacity)
        var nextSweep = Socket.monotonicNow() + tick
        let yieldInterval = configuration.loopYieldInterval
        // When the loop last slept (or was last off its core) before the batch it is serving.
        var busySince = Socket.monotonicNow()
        while !stopped {
            // Connections waiting for another turn: only look for new events, do not sleep.
            let waitStarted = Socket.monotonicNow()
            let timeoutMs = comingBack.isEmpty ? Int32(max(1, (nextSweep - waitStarted) * 1000)) : 0
            let count = epoll_wait(epollFD, &events, Int32(capacity), timeoutMs)
            now = Socket.monotonicNow()
            // A wait that returned nothing, or took longer than finding events already ready takes,
            // gave the core up (it slept, or the scheduler ran something else meanwhile).
            if count <= 0 || now - waitStarted > EventLoop.wokeAfter { busySince = now }
            refreshDate()
            if count < 0 && errno != EINTR {
                logger.error("epoll_wait failed", metadata: ["error": "\(Socket.errnoDescription)"])
                break
            }
            for i in 0..<max(0, Int(count)) {
                let token = events[i].data.u64
                let mask = events[i].events
                if token == EventLoop.wakeToken {
                    drainMailbox()
                } else if token < EventLoop.connectionTokenBase {
                    acceptConnections(from: listeners[Int(token - EventLoop.listenerTokenBase)])
                } else if let connection = connections[token] {
                    connection.handle(events: mask)
                }
            }
            if !comingBack.isEmpty {
                let turn = comingBack
                comingBack.removeAll(keepingCapacity: true)
                for connection in turn { connection.resumeTurn() }
            }
            if now >= nextSweep {
                sweep()
                nextSweep = now + tick
            }
            // Busy since before this batch for longer than the interval: the responses just sent
            // woke their readers, and a thread woken on this core is often not let in before the
            // scheduler's tick (4 ms at HZ=250) while the loop keeps finding events ready. Let it
            // in now; `sched_yield` returns at once when nothing else waits here.
            if let yieldInterval, now - busySince >= yieldInterval {
                sched_yield()
                busySince = Socket.monotonicNow()
            }
        }
        for connection in Array(connections.values) { connection.close() }
        mailbox.withLock { box in
            box.open = false
            for case .adopt(let fd, _) in box.messages { Glibc.close(fd) }
            box.messages = []
            Glibc.close(wakeFD)
        }
        Glibc.close(epollFD)
        siblings = []
    }

    /// Resolves a request head against this loop's copy of the routes.
    func resolve(method: String, rawPath: String, path: String) -> Router.Resolution {
        router.refresh(&routeTable)
        return router.resolve(method: method, rawPath: rawPath, path: path, in: routeTable.table)
    }

    private func refreshDate() {
        let second = time(nil)
        guard second != dateSecond else { return }
        dateSecond = second
        date = Array(HTTPDate.format(second).utf8)
    }

    private func sweep() {
        for connection in Array(connections.values) { connection.checkTimers(now: now) }
        if let until = acceptPausedUntil, now >= until, !draining {
            acceptPausedUntil = nil
            registerListeners()
        }
    }

    // MARK: accepting

    private func acceptConnections(from listener: Int32) {
        for _ in 0..<64 {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept(listener, $0, &length)
                }
            }
            if fd < 0 {
                switch errno {
                case EINTR, ECONNABORTED: continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    // Out of descriptors: stop polling the listeners briefly instead of spinning.
                    logger.warning("accept failed; pausing accepts", metadata: ["error": "\(Socket.errnoDescription)"])
                    unregisterListeners()
                    acceptPausedUntil = now + 0.1
                    return
                default:
                    return
                }
            }
            // accept4 needs _GNU_SOURCE, which the Glibc module does not expose.
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            if draining {
                Glibc.close(fd)
                continue
            }
            let remoteAddress = Socket.describe(&storage)
            // The loop holding the fewest connections takes it; a tie stays here.
            var target = self
            var fewest = assigned.load(ordering: .relaxed)
            for sibling in siblings where sibling !== self {
                let held = sibling.assigned.load(ordering: .relaxed)
                if held < fewest { (target, fewest) = (sibling, held) }
            }
            if target !== self {
                target.assigned.add(1, ordering: .relaxed)
                if target.post(.adopt(fd: fd, remoteAddress: remoteAddress)) { continue }
                // That loop has stopped: keep the connection.
                target.assigned.subtract(1, ordering: .relaxed)
            }
            assigned.add(1, ordering: .relaxed)
            open(fd: fd, remoteAddress: remoteAddress)
        }
    }

    /// Takes on an accepted connection already counted in `assigned`: admits it (or answers 503)
    /// and starts reading.
    private func open(fd: Int32, remoteAddress: String) {
        if draining {
            Glibc.close(fd)
            assigned.subtract(1, ordering: .relaxed)
            return
        }
        Socket.setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        let admitted = server.admitConnection()
        if !admitted && overflowConnections >= 64 {
            // Already answering many refused clients: just close.
            Glibc.close(fd)
            assigned.subtract(1, ordering: .relaxed)
            return
        }
        let id = nextConnectionID
        nextConnectionID += 1
        let connection = Connection(id: id, fd: fd, remoteAddress: remoteAddress, counted: admitted, loop: self, now: now)
        connections[id] = connection
        // Registered with no events; updateInterest/fail pick the real set.
        add(fd: fd, token: id, events: 0)
        if admitted {
            connection.updateInterest()
        } else {
            overflowConnections += 1
            connection.fail(HTTPParseError(status: 503, detail: "the server is at its limit of \(configuration.maxConnections) connections"))
        }
    }

    /// Queues a connection with requests already read for a turn after this iteration's events.
    func comeBack(to connection: Connection) {
        guard !connection.awaitingTurn else { return }
        connection.awaitingTurn = true
        comingBack.append(connection)
    }

    /// Called by a connection when it closes its descriptor.
    func connectionClosed(_ connection: Connection) {
        connections.removeValue(forKey: connection.id)
        assigned.subtract(1, ordering: .relaxed)
        if connection.counted { server.releaseConnection() } else { overflowConnections -= 1 }
    }
}
