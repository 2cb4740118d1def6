import Glibc
import CZlib  // also carries sys/epoll.h

/// One client connection, owned by exactly one event loop and only touched on its thread.
/// Requests are handled one at a time, so pipelined requests are answered in order; bytes of
/// later requests wait in `input` while a handler runs.
final class Connection {
    enum Phase {
        /// Waiting for (the rest of) a request head.
        case head
        /// Reading the body of `request`.
        case body
        /// A handler is running; nothing is read.
        case handling
        /// Writing a final response, then the write side is shut down.
        case closing
        /// Write side shut down; unread input is discarded until EOF or the linger deadline.
        case lingering
    }

    let id: UInt64
    let fd: Int32
    let remoteAddress: String
    /// False for connections beyond the limit, which only get their 503.
    let counted: Bool
    /// Unchecked (no reference counting on each use): the loop outlives its connections, which it
    /// closes before its thread ends.
    unowned(unsafe) let loop: EventLoop

    private(set) var phase = Phase.head
    private var input: [UInt8] = []
    private var inputStart = 0
    private var output: [UInt8] = []
    private var outputStart = 0
    private var readEOF = false
    private(set) var isClosed = false
    private(set) var registeredEvents: UInt32 = 0
    /// Requests answered since this connection's turn on the loop began (`requestsPerTurn`).
    private var answeredThisTurn = 0
    /// Queued on the loop's list of connections to come back to (`EventLoop.comeBack`).
    var awaitingTurn = false
    /// The read budget ran out with bytes perhaps still in the socket: the edge-triggered
    /// registration must be renewed (`updateInterest`) so that epoll reports them again.
    private var rearm = false

    private var parser: RequestParser
    /// The admitted request whose body is being read: its route, the request so far (head, path
    /// parameters, limits) and its head.
    private var pending: (route: Router.Route, request: HTTPRequest, head: RequestHead)?
    /// The request being answered, for `ServerConfiguration.onResponse`.
    private struct Exchange {
        var method: String
        var path: String
        var route: String?
        var startedAt: Double
        var bytesIn: Int
    }
    private var exchange: Exchange?
    /// Body bytes as sent (de-chunked, never inflated here: see `Router.run`).
    private var body: [UInt8] = []
    private var remainingLength = 0
    private var chunked: ChunkedDecoder?

    private let acceptedAt: Double
    private var requestsServed = 0
    private var headStartedAt: Double?
    private var idleSince: Double
    private var lastProgress: Double
    private var lingerDeadline = 0.0

    init(id: UInt64, fd: Int32, remoteAddress: String, counted: Bool, loop: EventLoop, now: Double) {
        self.id = id
        self.fd = fd
        self.remoteAddress = remoteAddress
        self.counted = counted
        self.loop = loop
        self.parser = RequestParser(limits: loop.configuration.parserLimits)
        acceptedAt = now
        idleSince = now
        lastProgress = now
    }

    private var config: ServerConfiguration { loop.configuration }
    private var outputPending: Bool { outputStart < output.count }
    private var available: Int { input.count - inputStart }

    // MARK: events

    func handle(events: UInt32) {
        answeredThisTurn = 0
        if events & EPOLLERR.rawValue != 0 {
            close()
            return
        }
        if events & EPOLLIN.rawValue != 0 || events & EPOLLHUP.rawValue != 0 {
            // After the peer's FIN no new edge comes: read on to the EOF instead of stopping at a short read.
            readAvailable(toEOF: events & (EPOLLRDHUP.rawValue | EPOLLHUP.rawValue) != 0)
            if isClosed { return }
        }
        if events & EPOLLOUT.rawValue != 0 {
            flush()
            if isClosed { return }
        }
        if events & EPOLLHUP.rawValue != 0 && !isClosed && (phase == .handling || phase == .lingering || readEOF && outputPending) {
            // Both directions are gone: nothing more can be delivered.
            close()
            return
        }
        if phase == .head || phase == .body { advance() }
        updateInterest()
    }

    private func readAvailable(toEOF: Bool) {
        var budget = 256 * 1024  // per wake-up, so one busy client cannot starve the others on this loop
        while budget > 0 {
            let n = recv(fd, loop.readBuffer.baseAddress, loop.readBuffer.count, 0)
            if n > 0 {
                budget -= n
                lastProgress = loop.now
                if phase == .lingering { continue }
                if inputStart > 0 && inputStart == input.count {
                    input.removeAll(keepingCapacity: true)
                    inputStart = 0
                }
                input.append(contentsOf: UnsafeRawBufferPointer(start: loop.readBuffer.baseAddress, count: n))
                // A short read emptied the socket: epoll reports what comes next (more bytes, or
                // the FIN as EPOLLRDHUP), so skip the recv that would only say EAGAIN.
                if n < loop.readBuffer.count && !toEOF { return }
            } else if n == 0 {
                readEOF = true
                if phase == .lingering { close() }
                return
            } else {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return }
                close()
                return
            }
        }
        rearm = true
    }

    // MARK: request processing

    /// Parses as far as the buffered input allows.
    func advance() {
        // Answers made on the loop (pipelined requests among them) leave together in one send.
        defer { if !isClosed && outputPending { flush() } }
        do {
            while !isClosed {
                switch phase {
                case .head:
                    if answeredThisTurn >= Connection.requestsPerTurn && available > 0 {
                        // Pipelined requests beyond this turn's share wait for the next turn, after
                        // the loop's other ready connections (no epoll edge will report these bytes
                        // again: they are already read).
                        loop.comeBack(to: self)
                        return
                    }
                    if output.count - outputStart >= Connection.outputBatchLimit {
                        flush()
                        if isClosed || outputPending { return }
                    }
                    if inputStart > 0 && (inputStart > 64 * 1024 || inputStart * 2 > input.count) {
                        input.removeSubrange(0..<inputStart)
                        inputStart = 0
                    }
                    if available == 0 {
                        if readEOF || loop.draining { closeAfterOutput() }
                        return
                    }
                    if headStartedAt == nil { headStartedAt = loop.now }
                    let parsed: (RequestHead, Int)? = try input.withUnsafeBufferPointer { all throws(HTTPParseError) in
                        var buffer = UnsafeBufferPointer(rebasing: all[inputStart...])
                        let skip = RequestParser.leadingEmptyLines(buffer)
                        if skip > 0 {
                            inputStart += skip
                            parser.reset()
                            buffer = UnsafeBufferPointer(rebasing: all[inputStart...])
                        }
                        return try parser.parse(buffer)
                    }
                    guard let (head, consumed) = parsed else {
                        if readEOF { closeAfterOutput() }
                        return
                    }
                    inputStart += consumed
                    try begin(head, headBytes: consumed)
                case .body:
                    try readBody()
                    if phase == .body {
                        if readEOF { closeAfterOutput() }
                        return
                    }
                case .handling, .closing, .lingering:
                    return
                }
            }
        } catch {
            fail(error)
        }
    }

    /// Closes once the answers already queued have been sent (the peer may still read them after
    /// its own half-close); at once when nothing is queued.
    private func closeAfterOutput() {
        guard outputPending else {
            close()
            return
        }
        pending = nil
        body = []
        releaseBody()
        phase = .closing
    }

    /// A complete head: resolve its route once and apply the route's policy before any of the body
    /// is read (or `100 Continue` sent), so a refused request costs the server only its head.
    private func begin(_ head: RequestHead, headBytes: Int) throws(HTTPParseError) {
        // Only `ServerConfiguration.onResponse` reads the exchange.
        if config.onResponse != nil {
            exchange = Exchange(method: head.method, path: head.parsedTarget.path, route: nil,
                                startedAt: headStartedAt ?? loop.now, bytesIn: headBytes)
        }
        headStartedAt = nil
        body = []
        chunked = nil
        // A CORS preflight from an allowed origin is answered here, before routing and before any
        // route's `admit`: browsers send no credentials on a preflight, so auth must not see it.
        if let cors = config.cors, CORSPolicy.isPreflight(method: head.method, headers: head.headers),
           let origin = head.headers["Origin"], cors.allows(origin),
           let allow = loop.router.allowedMethods(rawPath: head.parsedTarget.rawPath) {
            answerFromHead(cors.preflightResponse(origin: origin, allow: allow), head)
            return
        }
        let route: Router.Route, parameters: [String: String]
        switch loop.resolve(method: head.method, rawPath: head.parsedTarget.rawPath, path: head.parsedTarget.path) {
        case .answer(let response):
            answerFromHead(response, head)
            return
        case .route(let found, let matched):
            (route, parameters) = (found, matched)
            exchange?.route = found.template
        }
        var request = HTTPRequest(head: head, body: [], remoteAddress: remoteAddress)
        request.pathParameters = parameters
        // Runs on this I/O thread: RoutePolicy.admit is documented to be cheap and non-blocking.
        if let admit = route.policy.admit, let refusal = admit(request) {
            answerFromHead(refusal, head)
            return
        }
        let wireLimit = route.policy.maxBodyBytes ?? config.maxBodyBytes
        if case .length(let length) = head.framing, length > wireLimit {
            throw HTTPParseError(status: 413, detail: "body of \(length) bytes exceeds the limit of \(wireLimit)")
        }
        // Still encoded: the Router (or an encodedBody handler) inflates it on a handler thread.
        request.bodyIsGzip = head.contentCoding == .gzip
        request.maxDecodedBodyBytes = route.policy.maxDecodedBodyBytes ?? config.maxDecompressedBodyBytes
        guard head.hasBody else {
            run(route, request, head)
            return
        }
        pending = (route, request, head)
        // The server-wide budget for bodies held in memory: a declared length is reserved whole
        // before a byte is read (chunked bodies reserve as they grow, in readBody).
        if case .length(let length) = head.framing {
            guard loop.bodyBudget.reserve(length) else {
                pending = nil
                answerFromHead(.problem(status: 503, title: "Service Unavailable",
                                        detail: "the server is receiving as many request bodies as it holds at once; retry shortly",
                                        headers: ["Retry-After": "1"]), head)
                return
            }
            reservedBodyBytes = length
        }
        switch head.framing {
        case .length(let length):
            remainingLength = length
            // Reserve only what a lying Content-Length cannot abuse; larger bodies grow as they arrive.
            body.reserveCapacity(min(length, 1 << 20))
        case .chunked:
            chunked = ChunkedDecoder(maxBodyBytes: wireLimit, maxMetadataBytes: config.maxHeaderBytes)
        case .none:
            break
        }
        if head.expectContinue && available == 0 {
            // The client waits for this before sending the body (RFC 9110 §10.1.1).
            output.append(contentsOf: ResponseSerializer.continueResponse)
            flush()
        }
        phase = .body
        lastProgress = loop.now
    }

    /// Sends an answer decided from the head alone (404, 405, OPTIONS, an admission refusal). A body
    /// still on the wire is never read: the connection closes and drains it unbuffered.
    private func answerFromHead(_ response: HTTPResponse, _ head: RequestHead) {
        var response = loop.router.decorated(response, requestHeaders: head.headers)
        config.cors?.decorate(&response, origin: head.headers["Origin"])
        let keepAlive = head.keepAlive && !head.hasBody && !loop.draining && !response.asksToClose
        if response.status >= 400 {
            loop.logger.debug("answered from the head", metadata: ["remote": "\(remoteAddress)", "status": "\(response.status)"])
        }
        let bytes = ResponseSerializer.serialize(response, headOnly: head.method == "HEAD", keepAlive: keepAlive,
                                                 echoKeepAlive: keepAlive && head.minorVersion == 0)
        report(status: response.status, bytesOut: bytes.count, requestID: response.headers["X-Request-Id"])
        output.append(contentsOf: bytes)
        requestsServed += 1
        answeredThisTurn += 1
        phase = keepAlive ? .head : .closing
        flush()
    }

    private func readBody() throws(HTTPParseError) {
        guard available > 0 else { return }
        if var decoder = chunked {
            let consumed = try input.withUnsafeBufferPointer { all throws(HTTPParseError) in
                try decoder.decode(UnsafeBufferPointer(rebasing: all[inputStart...]), into: &body)
            }
            inputStart += consumed
            exchange?.bytesIn += consumed
            chunked = decoder
            if body.count > reservedBodyBytes {
                guard loop.bodyBudget.reserve(body.count - reservedBodyBytes) else {
                    throw HTTPParseError(status: 503, detail: "the server is receiving as many request bodies as it holds at once; retry shortly")
                }
                reservedBodyBytes = body.count
            }
            if decoder.isComplete { finishBody() }
        } else {
            let take = min(remainingLength, available)
            input.withUnsafeBufferPointer { all in
                body.append(contentsOf: UnsafeBufferPointer(rebasing: all[inputStart..<(inputStart + take)]))
            }
            inputStart += take
            exchange?.bytesIn += take
            remainingLength -= take
            if remainingLength == 0 { finishBody() }
        }
    }

    private func finishBody() {
        chunked = nil
        guard let (route, made, head) = pending else { return }
        pending = nil
        var request = made
        request.body = body
        body = []
        run(route, request, head)
    }

    /// Runs the handler: on this loop for a route marked `RoutePolicy.nonBlocking`, otherwise on the
    /// pool, whose response comes back through the loop's mailbox.
    private func run(_ route: Router.Route, _ request: HTTPRequest, _ head: RequestHead) {
        phase = .handling
        let keepAlive = head.keepAlive && !loop.draining
        // A gzip body is never inflated on the loop (see `RoutePolicy.encodedBody`).
        let loopMayRead = !request.bodyIsGzip || route.policy.encodedBody
        if route.policy.nonBlocking && loopMayRead {
            respondFromLoop(route.handler(request), request, head, keepAlive: keepAlive)
            return
        }
        // A cached answer (`RoutePolicy.fromMemory`) is sent from here; a miss goes to the pool below.
        if loopMayRead, let fromMemory = route.policy.fromMemory, let response = fromMemory(request) {
            respondFromLoop(response, request, head, keepAlive: keepAlive)
            return
        }
        let headOnly = head.method == "HEAD"
        let minorVersion = head.minorVersion
        let loop = self.loop, id = self.id, router = loop.router
        let threshold = config.compressionThreshold, level = config.compressionLevel
        let cors = config.cors
        loop.handlerPool.submit {
            var response = router.run(route, request)
            cors?.decorate(&response, origin: request.headers["Origin"])
            let keep = keepAlive && !response.asksToClose
            ContentNegotiation.compressIfAccepted(&response, requestHeaders: request.headers, threshold: threshold, level: level)
            let bytes = ResponseSerializer.serialize(response, headOnly: headOnly, keepAlive: keep,
                                                     echoKeepAlive: keep && minorVersion == 0)
            loop.post(.response(connection: id, bytes: bytes, close: !keep, status: response.status,
                                requestID: response.headers["X-Request-Id"]))
        }
    }

    /// Sends a response made on this loop: serialized here, or compressed and serialized on the pool
    /// when the client takes it gzip-encoded.
    private func respondFromLoop(_ response: HTTPResponse, _ request: HTTPRequest, _ head: RequestHead, keepAlive: Bool) {
        var response = response
        if let cors = config.cors { cors.decorate(&response, origin: request.headers["Origin"]) }
        let keep = keepAlive && !response.asksToClose
        if ContentNegotiation.needsCompression(&response, requestHeaders: request.headers,
                                               threshold: config.compressionThreshold) {
            // Compressing takes time the loop's other connections would wait for: the pool does it.
            finishOnPool(response, headOnly: head.method == "HEAD", keepAlive: keep, minorVersion: head.minorVersion)
        } else {
            answerOnLoop(response, headOnly: head.method == "HEAD", keepAlive: keep, minorVersion: head.minorVersion)
        }
    }

    /// Gzip-encodes and serializes a response made on the loop, on the pool.
    private func finishOnPool(_ response: HTTPResponse, headOnly: Bool, keepAlive: Bool, minorVersion: Int) {
        let loop = self.loop, id = self.id, level = config.compressionLevel
        loop.handlerPool.submit {
            var response = response
            ContentNegotiation.compress(&response, level: level)
            let bytes = ResponseSerializer.serialize(response, headOnly: headOnly, keepAlive: keepAlive,
                                                     echoKeepAlive: keepAlive && minorVersion == 0)
            loop.post(.response(connection: id, bytes: bytes, close: !keepAlive, status: response.status,
                                requestID: response.headers["X-Request-Id"]))
        }
    }

    /// Queues a response made on the loop; `advance` sends it (with any other answers to pipelined
    /// requests) once it has parsed what is buffered.
    private func answerOnLoop(_ response: HTTPResponse, headOnly: Bool, keepAlive: Bool, minorVersion: Int) {
        releaseBody()
        let before = output.count
        loop.date.withUnsafeBufferPointer { date in
            ResponseSerializer.serialize(response, into: &output, date: date, headOnly: headOnly, keepAlive: keepAlive,
                                         echoKeepAlive: keepAlive && minorVersion == 0)
        }
        if config.onResponse != nil {
            report(status: response.status, bytesOut: output.count - before, requestID: response.headers["X-Request-Id"])
        } else {
            exchange = nil
        }
        requestsServed += 1
        answeredThisTurn += 1
        phase = keepAlive ? .head : .closing
    }

    /// Called on the loop thread when the handler's response arrives.
    func deliver(_ bytes: [UInt8], close closeAfter: Bool, status: Int, requestID: String?) {
        guard phase == .handling else { return }
        answeredThisTurn = 0
        releaseBody()
        report(status: status, bytesOut: bytes.count, requestID: requestID)
        requestsServed += 1
        output.append(contentsOf: bytes)
        phase = closeAfter || loop.draining ? .closing : .head
        flush()
        if !isClosed && phase == .head { advance() }
        updateInterest()
    }

    /// Answers with a problem+json error and closes: after a framing error nothing later on this
    /// connection can be trusted.
    func fail(_ error: HTTPParseError) {
        guard !isClosed, phase != .closing, phase != .lingering else { return }
        let title = StatusPhrase.phrase(error.status)
        // A 503 here is the body budget running out mid-body: say when to come back.
        let response = HTTPResponse.problem(status: error.status, title: title, detail: error.detail,
                                            headers: error.status == 503 ? ["Retry-After": "1"] : [:])
        loop.logger.debug("rejecting request", metadata: ["remote": "\(remoteAddress)", "status": "\(error.status)", "detail": "\(error.detail)"])
        let bytes = ResponseSerializer.serialize(response, headOnly: false, keepAlive: false, echoKeepAlive: false)
        if exchange == nil {
            // Refused before a head was complete: what was read of it counts as the request.
            exchange = Exchange(method: "", path: "", route: nil, startedAt: headStartedAt ?? acceptedAt, bytesIn: available)
        }
        report(status: error.status, bytesOut: bytes.count)
        output.append(contentsOf: bytes)
        phase = .closing
        pending = nil
        body = []
        releaseBody()
        flush()
        updateInterest()
    }

    /// Body bytes this connection holds against the server's `BodyBudget`.
    private var reservedBodyBytes = 0

    private func releaseBody() {
        loop.bodyBudget.release(reservedBodyBytes)
        reservedBodyBytes = 0
    }

    /// Hands the summary of the request being answered to `ServerConfiguration.onResponse`.
    private func report(status: Int, bytesOut: Int, requestID: String? = nil) {
        defer { exchange = nil }
        guard let onResponse = config.onResponse, let exchange else { return }
        onResponse(RequestSummary(method: exchange.method, path: exchange.path, route: exchange.route, status: status,
                                  bytesIn: exchange.bytesIn, bytesOut: bytesOut, duration: max(0, loop.now - exchange.startedAt),
                                  remoteAddress: remoteAddress, requestID: requestID))
    }

    // MARK: output

    func flush() {
        while outputPending {
            let n = output.withUnsafeBufferPointer { buffer in
                send(fd, buffer.baseAddress! + outputStart, buffer.count - outputStart, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                outputStart += n
                lastProgress = loop.now
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                return
            } else {
                close()
                return
            }
        }
        if output.count > 256 * 1024 { output = [] } else { output.removeAll(keepingCapacity: true) }
        outputStart = 0
        switch phase {
        case .closing:
            // Half-close, then drain what the client still sends so our close is not a reset that
            // could destroy the response before the client reads it.
            shutdown(fd, Int32(SHUT_WR))
            phase = .lingering
            lingerDeadline = loop.now + (loop.draining ? min(config.lingerTimeout, Connection.drainingLinger) : config.lingerTimeout)
            input = []
            inputStart = 0
            if readEOF { close() }
        case .head:
            idleSince = loop.now
            if available > 0 { headStartedAt = loop.now }
        default:
            break
        }
    }

    // MARK: bookkeeping

    func updateInterest() {
        guard !isClosed else { return }
        var events: UInt32 = 0
        if !readEOF {
            switch phase {
            case .head, .handling:
                // Keep reading ahead (pipelined requests, or the client's EOF) while a handler runs
                // or a response drains, but only up to a bound; the interest set then stays put
                // across a plain request/response cycle, saving two epoll_ctl calls per request.
                if available < Connection.readAheadLimit { events |= EPOLLIN.rawValue }
            case .body, .lingering:
                events |= EPOLLIN.rawValue
            case .closing:
                break
            }
        }
        if outputPending { events |= EPOLLOUT.rawValue }
        // Edge-triggered: epoll reports a socket when it becomes readable or writable, and need not
        // look at every socket it reported last time again on each wait. Every read runs until a
        // short read, EAGAIN or the budget (then `rearm`); every write until done or EAGAIN; and a
        // modification reports what is ready at once, so nothing waits unseen.
        if events != registeredEvents || rearm {
            let edge = EPOLLET.rawValue | (events & EPOLLIN.rawValue != 0 ? EPOLLRDHUP.rawValue : 0)
            loop.modify(fd: fd, token: id, events: events | edge)
            registeredEvents = events
            rearm = false
        }
    }

    /// Applies the timeouts; called periodically by the loop.
    func checkTimers(now: Double) {
        switch phase {
        case .head:
            if outputPending {
                if now - lastProgress > config.bodyStallTimeout { close() }
            } else if available == 0 && loop.draining {
                close()
            } else if available > 0 || requestsServed == 0 {
                let started = headStartedAt ?? acceptedAt
                if now - started > config.headerReadTimeout {
                    fail(HTTPParseError(status: 408, detail: "request head not received within \(config.headerReadTimeout) s"))
                }
            } else if now - idleSince > config.idleTimeout {
                close()
            }
        case .body:
            if now - lastProgress > config.bodyStallTimeout {
                fail(HTTPParseError(status: 408, detail: "request body stalled for more than \(config.bodyStallTimeout) s"))
            }
        case .handling:
            break
        case .closing:
            if now - lastProgress > config.bodyStallTimeout { close() }
        case .lingering:
            if now > lingerDeadline { close() }
        }
    }

    /// Takes the turn `comeBack(to:)` promised: answers the next pipelined requests already read.
    func resumeTurn() {
        awaitingTurn = false
        guard !isClosed else { return }
        answeredThisTurn = 0
        if phase == .head || phase == .body { advance() }
        updateInterest()
    }

    /// Pipelined requests answered on the loop for one connection before the loop's other ready
    /// connections get their turn: a client that sends thousands of requests in one write would
    /// otherwise hold every other connection of its loop until all of them were answered.
    static let requestsPerTurn = 16

    /// Answers queued at most before they are sent, when pipelined requests are answered on the loop.
    static let outputBatchLimit = 64 * 1024

    /// Bytes of later requests buffered at most while the current one is being handled.
    static let readAheadLimit = 64 * 1024

    /// During shutdown a lingering close only needs long enough for the response to leave.
    static let drainingLinger = 0.2

    func drainStarted(now: Double) {
        if phase == .lingering { lingerDeadline = min(lingerDeadline, now + Connection.drainingLinger) }
    }

    /// True when the connection sits between requests and may be closed without losing anything.
    var isIdle: Bool { phase == .head && available == 0 && !outputPending }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        releaseBody()
        Glibc.close(fd)
        loop.connectionClosed(self)
    }
}

extension HTTPRequest {
    init(head: RequestHead, body: [UInt8], remoteAddress: String) {
        method = head.method
        target = head.target
        path = head.parsedTarget.path
        rawPath = head.parsedTarget.rawPath
        queryItems = head.parsedTarget.queryItems
        headers = head.headers
        self.body = body
        pathParameters = [:]
        self.remoteAddress = remoteAddress
        minorVersion = head.minorVersion
    }
}
