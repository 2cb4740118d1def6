import Foundation
import Glibc
import Logging
import Synchronization

public struct HTTPServerError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// The HTTP/1.1 server: listeners on every address `configuration.host` resolves to, a few epoll
/// loops for I/O, and a bounded Dispatch pool for handlers.
public final class HTTPServer: Sendable {
    /// Request-body bytes held at once, shared by every loop (`ServerConfiguration.maxBufferedBodyBytes`).
    let bodyBudget: BodyBudget

    private enum State { case idle, running, stopping, stopped }

    /// What `start` sets up and `shutdown` tears down; they may run on different threads (a signal
    /// handler calls `shutdown` from a Dispatch queue).
    private struct Running {
        var listeners: [Int32] = []
        var loops: [EventLoop] = []
        var signalSources: [DispatchSourceSignal] = []
        var port = 0
    }

    public let configuration: ServerConfiguration
    private let router: Router
    private let logger: Logger
    private let handlerPool: HandlerPool
    private let state = Lock<State>(.idle)
    private let activeConnections = Atomic<Int>(0)
    private let running = Lock(Running())
    private let loopThreads = DispatchGroup()
    private let stoppedGroup = DispatchGroup()

    public init(configuration: ServerConfiguration, router: Router, logger: Logger = Logger(label: "http")) {
        self.configuration = configuration
        self.router = router
        self.logger = logger
        self.handlerPool = HandlerPool(limit: configuration.handlerConcurrency)
        bodyBudget = BodyBudget(limit: configuration.maxBufferedBodyBytes)
    }

    /// Request-body bytes the server holds right now (for tests and metrics).
    public var bufferedBodyBytes: Int { bodyBudget.inUse }

    /// The bound port (useful with port 0); 0 before `start()`.
    public var port: Int { running.withLock { $0.port } }

    /// Connections currently open (not counting refused ones still receiving their 503).
    public var connectionCount: Int { activeConnections.load(ordering: .relaxed) }

    /// Binds the listeners and starts the event loops; returns once the server accepts connections.
    public func start() throws {
        try state.withLock { state in
            guard state == .idle else { throw HTTPServerError("server already started") }
            state = .running
        }
        var listeners: [Int32] = []
        var loops: [EventLoop] = []
        let boundPort: Int
        do {
            raiseDescriptorLimit()
            listeners = try bindListeners()
            boundPort = listeners.first.flatMap(Socket.localPort) ?? configuration.port
            for index in 0..<max(1, configuration.eventLoopCount) {
                loops.append(try EventLoop(index: index, configuration: configuration, router: router,
                                           handlerPool: handlerPool, listeners: listeners, server: self, logger: logger))
            }
        } catch {
            listeners.forEach { Glibc.close($0) }
            state.withLock { $0 = .stopped }
            throw error
        }
        running.withLock { [listeners, loops] in
            $0.listeners = listeners
            $0.loops = loops
            $0.port = boundPort
        }
        for loop in loops { loop.siblings = loops }
        stoppedGroup.enter()
        for loop in loops {
            loopThreads.enter()
            let thread = Thread { [loopThreads] in
                loop.run()
                loopThreads.leave()
            }
            thread.name = "http-loop-\(loop.index)"
            thread.start()
        }
        logger.info("HTTP server listening", metadata: ["host": "\(configuration.host)", "port": "\(boundPort)",
                                                        "loops": "\(loops.count)"])
    }

    /// Graceful stop: stop accepting, close idle connections, let in-flight requests finish and
    /// their responses go out (closing those connections), and after `deadline` seconds close
    /// whatever is left. Returns when the loops have stopped. Do not call it from a handler and wait
    /// for it there: that handler's own request counts as in flight.
    public func shutdown(deadline: TimeInterval = 10) {
        let proceed = state.withLock { state -> Bool in
            guard state == .running else { return false }
            state = .stopping
            return true
        }
        guard proceed else {
            waitUntilStopped()
            return
        }
        logger.info("HTTP server shutting down", metadata: ["deadline": "\(deadline)"])
        let until = Socket.monotonicNow() + deadline
        let (listeners, loops) = running.withLock { ($0.listeners, $0.loops) }
        let acknowledged = DispatchGroup()
        for loop in loops {
            acknowledged.enter()
            loop.post(.beginShutdown(acknowledged))
        }
        // Only once no loop polls them may the listeners be closed (their numbers could be reused).
        if acknowledged.wait(timeout: .now() + 5) == .timedOut {
            logger.error("an event loop did not acknowledge shutdown; closing listeners anyway")
        }
        listeners.forEach { Glibc.close($0) }
        while connectionCount > 0 && Socket.monotonicNow() < until {
            usleep(5_000)
        }
        let left = connectionCount
        if left > 0 { logger.warning("closing connections at the shutdown deadline", metadata: ["count": "\(left)"]) }
        for loop in loops { loop.post(.stop) }
        loopThreads.wait()
        let signalSources = running.withLock { running in
            let sources = running.signalSources
            running.loops = []
            running.signalSources = []
            return sources
        }
        for source in signalSources { source.cancel() }
        if !signalSources.isEmpty {
            signal(SIGTERM, SIG_DFL)
            signal(SIGINT, SIG_DFL)
        }
        state.withLock { $0 = .stopped }
        logger.info("HTTP server stopped")
        stoppedGroup.leave()
    }

    /// Blocks until `shutdown` has completed (returns at once if the server never started).
    public func waitUntilStopped() {
        stoppedGroup.wait()
    }

    /// SIGTERM and SIGINT start a graceful shutdown; SIGPIPE is ignored (writes use MSG_NOSIGNAL too).
    public func installSignalHandlers() {
        signal(SIGPIPE, SIG_IGN)
        let deadline = configuration.shutdownDeadline
        // The sources are made inside the lock that keeps them (they are not Sendable, so they never
        // leave it); only the registration semaphores come out.
        let registrations = running.withLock { running -> [(Int32, DispatchSemaphore)] in
            var registrations: [(Int32, DispatchSemaphore)] = []
            for number in [SIGTERM, SIGINT] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { [weak self] in
                    guard let server = self else { return }
                    server.logger.info("signal received; shutting down", metadata: ["signal": "\(number)"])
                    DispatchQueue.global().async { server.shutdown(deadline: deadline) }
                }
                let registered = DispatchSemaphore(value: 0)
                source.setRegistrationHandler { registered.signal() }
                source.resume()
                running.signalSources.append(source)
                registrations.append((number, registered))
            }
            return registrations
        }
        // Registration with the kernel happens asynchronously; until it has, a SIGTERM would meet
        // SIG_IGN and vanish. Return only once the sources are live.
        for (number, registered) in registrations where registered.wait(timeout: .now() + 2) == .timedOut {
            logger.warning("signal source not registered within 2 s", metadata: ["signal": "\(number)"])
        }
    }

    // MARK: connection accounting (called from loop threads)

    func admitConnection() -> Bool {
        // Compare-and-swap so the count never passes the limit, even for a moment.
        var current = activeConnections.load(ordering: .relaxed)
        while current < configuration.maxConnections {
            let (exchanged, original) = activeConnections.compareExchange(expected: current, desired: current + 1,
                                                                          ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    func releaseConnection() {
        activeConnections.subtract(1, ordering: .relaxed)
    }

    // MARK: setup

    private typealias ListenAddress = (family: Int32, storage: sockaddr_storage, length: socklen_t)

    /// Resolves `host` (nil: the wildcards) to socket addresses, without duplicates.
    private static func resolve(_ host: String?) throws -> [ListenAddress] {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, "0", &hints, &result)
        guard rc == 0, let first = result else {
            throw HTTPServerError("cannot resolve \(host ?? "*"): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(result) }
        var addresses: [ListenAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            cursor = info.pointee.ai_next
            guard info.pointee.ai_family == AF_INET || info.pointee.ai_family == AF_INET6 else { continue }
            var storage = sockaddr_storage()
            let length = info.pointee.ai_addrlen
            withUnsafeMutableBytes(of: &storage) { raw in
                raw.copyMemory(from: UnsafeRawBufferPointer(start: info.pointee.ai_addr, count: Int(length)))
            }
            addresses.append((info.pointee.ai_family, storage, length))
        }
        return addresses
    }

    private func bindListeners() throws -> [Int32] {
        // "*" (or "") means the IPv4 and IPv6 wildcards; "localhost" means both loopbacks whatever
        // /etc/hosts says (::1 only where the system has IPv6).
        var addresses: [ListenAddress] = []
        var optional = Set<Int>()
        switch configuration.host {
        case "*", "":
            addresses = try HTTPServer.resolve(nil)
        case "localhost":
            addresses = try HTTPServer.resolve("127.0.0.1")
            if let v6 = try? HTTPServer.resolve("::1") {
                optional.formUnion(addresses.count..<(addresses.count + v6.count))
                addresses += v6
            }
        default:
            addresses = try HTTPServer.resolve(configuration.host)
        }
        var seen = Set<[UInt8]>()
        var unique: [ListenAddress] = []
        var uniqueOptional = Set<Int>()
        for (index, var address) in addresses.enumerated() {
            let key = withUnsafeBytes(of: &address.storage) { Array($0.prefix(Int(address.length))) }
            guard seen.insert(key).inserted else { continue }
            if optional.contains(index) { uniqueOptional.insert(unique.count) }
            unique.append(address)
        }
        addresses = unique
        guard !addresses.isEmpty else { throw HTTPServerError("no IPv4 or IPv6 address for \(configuration.host)") }

        var fds: [Int32] = []
        var port = UInt16(clamping: configuration.port)
        do {
            for (index, var address) in addresses.enumerated() {
                let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                guard fd >= 0 else { throw HTTPServerError("socket: \(Socket.errnoDescription)") }
                fds.append(fd)
                Socket.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
                if address.family == AF_INET6 { Socket.setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
                withUnsafeMutablePointer(to: &address.storage) { pointer in
                    if address.family == AF_INET {
                        pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_port = port.bigEndian }
                    } else {
                        pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_port = port.bigEndian }
                    }
                }
                let bound = withUnsafePointer(to: &address.storage) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, address.length) }
                }
                if bound != 0 && uniqueOptional.contains(index) && (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT) {
                    Glibc.close(fds.removeLast())
                    continue
                }
                guard bound == 0 else {
                    throw HTTPServerError("bind \(configuration.host):\(port): \(Socket.errnoDescription)")
                }
                guard listen(fd, configuration.backlog) == 0 else { throw HTTPServerError("listen: \(Socket.errnoDescription)") }
                // With port 0 the first socket picks the port; the others must share it.
                if port == 0, let picked = Socket.localPort(fd) { port = UInt16(picked) }
            }
        } catch {
            fds.forEach { Glibc.close($0) }
            throw error
        }
        return fds
    }

    /// Each connection is a descriptor; make sure the soft limit allows the configured maximum.
    private func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let wanted = rlim_t(configuration.maxConnections * 2 + 256)
        if limit.rlim_cur < wanted {
            limit.rlim_cur = min(wanted, limit.rlim_max)
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
    }
}
