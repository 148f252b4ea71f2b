/**
 * One child MCP server and the sessions multiplexed onto it (DESIGN.md, notes on client mode).
 *
 * The gateway initializes the child once, declaring every client capability it can relay, and
 * answers each session's initialize from the cached result. Ids and progress tokens of client
 * requests are rewritten to child-unique numbers (id-map.ts) and mapped back on the way out;
 * server-to-client requests are routed to the session whose in-flight call caused them and get
 * session-visible ids; a message that maps to no live session is dropped and logged, never
 * delivered elsewhere. The same code serves `session` isolation (one session per child) and
 * `shared` (sessions of every client on one child; then nothing unattributable is fanned out
 * except list_changed, which says nothing about any client).
 *
 * Attribution is never a guess (issue 11, item 14): a message from the child belongs to a
 * session only when it carries the (rewritten) progress token of one of that session's requests,
 * or when the child serves exactly one session and no other client. "The only session with
 * requests in flight" is not evidence (the child may be speaking of something else, and in
 * `shared` mode that session may be another client's): such a message is delivered to no one
 * and logged; a server-to-client request gets a JSON-RPC error back.
 *
 * A child whose initialize fails (error, timeout, garbage) is stopped at once, SIGTERM then
 * SIGKILL after the grace, so that no failed attempt leaves a live process (item 18).
 */
import type {Clock} from '../clock.js'
import type {Logger} from '../log.js'
import type {ChildRegistry} from './child-registry.js'
import {startChild, type ChildExit, type ChildProcess, type ChildSpec} from './child-process.js'
import type {Exchange} from './exchange.js'
import {IdMap, type Pending} from './id-map.js'
import {ErrorCode, isId, metaOf, paramsOf, parseMessage, type JsonRpcMessage} from './json-rpc.js'
import {LATEST_VERSION} from './protocol-version.js'
import {classifyChildMessage, createNoiseLog} from './child-message.js'
import {oversizedResponseId} from './oversize-line.js'
import {fastResponseId, replaceTrailingId} from './response-line.js'
import {logLevelRank, type Session, type SessionHost} from './session.js'

export interface MultiplexerOptions {
  tag: string
  spec: ChildSpec
  /** Runs before spawning (e.g. creating the default server's data directory). */
  prepare?: () => Promise<void>
  /** True when sessions of several clients share this child. */
  shared: boolean
  logger: Logger
  clock: Clock
  registry: ChildRegistry
  maxLineBytes: number
  requestTimeoutMs: number
  /** How long the child may take to answer the gateway's initialize; default requestTimeoutMs. */
  initializeTimeoutMs?: number
  /** SIGTERM to SIGKILL, when a child that failed to initialize is stopped. */
  killGraceMs: number
  /** Called once when the child has exited (or failed to start); its sessions must be ended. */
  onExit(mux: Multiplexer, sessions: Session[]): void
}

/** What the gateway declares to every child: the widest set of client capabilities it can relay. */
const RELAYED_CAPABILITIES = {roots: {listChanged: true}, sampling: {}, elicitation: {form: {}, url: {}}}
const CLIENT_INFO = {name: 'gatehouse', version: '0.1.0'}

const capabilityFor = (method: string): 'sampling' | 'elicitation' | 'roots' | undefined =>
  method === 'sampling/createMessage'
    ? 'sampling'
    : method === 'elicitation/create'
      ? 'elicitation'
      : method === 'roots/list'
        ? 'roots'
        : undefined

const listChanged = new Set([
  'notifications/tools/list_changed',
  'notifications/resources/list_changed',
  'notifications/prompts/list_changed',
])

const errorJson = (idJson: string, code: number, message: string) =>
  `{"jsonrpc":"2.0","id":${idJson},"error":${JSON.stringify({code, message})}}`

export class Multiplexer implements SessionHost {
  readonly sessions = new Set<Session>()
  readonly ready: Promise<Record<string, unknown>>
  initResult: Record<string, unknown> | undefined
  dead = false
  /** When the last session left; undefined while there are sessions. */
  idleSince: number | undefined
  /** Sessions being started on this child (initialize in progress): it is not idle meanwhile. */
  private claims = 0
  private child: ChildProcess | undefined
  private stopping = false
  private readonly ids = new IdMap()
  private nextServerRequest = 1
  private readonly logger: Logger
  /** Lines on the child's stdout that are not JSON-RPC messages: logged (bounded) and dropped. */
  private readonly noise: ReturnType<typeof createNoiseLog>

  constructor(private readonly options: MultiplexerOptions) {
    this.logger = options.logger
    this.noise = createNoiseLog(options.logger, options.tag)
    this.idleSince = options.clock.now()
    this.ready = this.start()
    // Nobody may be awaiting ready when it fails (e.g. stopped early); that is not unhandled.
    this.ready.catch(() => {})
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  /** The child's last stderr lines (child-process.ts), for the console. */
  get stderrTail(): string[] {
    return this.child?.stderrTail() ?? []
  }

  /** True while its child process exists (started and not yet exited). */
  get running(): boolean {
    return this.child !== undefined && !this.child.exited
  }

  get pendingCount(): number {
    return this.ids.size
  }

  /**
   * Whether the idle sweep may stop this child: no session, none being started, nothing in
   * flight, and idle for at least `idleForMs` (issue 11, item 19: a child whose session is still
   * starting is not idle).
   */
  idleLongerThan(now: number, idleForMs: number): boolean {
    return this.sessions.size === 0 && this.claims === 0 && this.ids.size === 0 && this.idleSince !== undefined && now - this.idleSince >= idleForMs
  }

  /**
   * Marks a session as being started on this child, so the idle sweep leaves it alone; the
   * returned function ends the claim (after attach, or when the start failed). Idempotent.
   */
  claim(): () => void {
    this.claims++
    let held = true
    return () => {
      if (!held) return
      held = false
      this.claims--
      if (this.claims === 0 && this.sessions.size === 0) this.idleSince = this.options.clock.now()
    }
  }

  private async start(): Promise<Record<string, unknown>> {
    try {
      return await this.initialize()
    } catch (error) {
      // A child that did not initialize is no use to anyone: stop it now (it may be alive and
      // hung, or answering with errors), whatever the caller does next.
      this.dead = true
      const child = this.child
      if (child !== undefined && !child.exited) {
        this.options.logger.warn('stopping a child that failed to initialize', {child: this.options.tag, pid: child.pid, reason: (error as Error).message})
        void child.stop(this.options.killGraceMs)
      }
      throw error
    }
  }

  private async initialize(): Promise<Record<string, unknown>> {
    const {spec, tag, logger} = this.options
    await this.options.prepare?.()
    if (this.stopping) throw new Error('the child was stopped before it started')
    const child = startChild({
      spec,
      tag,
      logger,
      maxLineBytes: this.options.maxLineBytes,
      onLine: (line) => this.onLine(line),
      onOversize: (bytes, tail, head) => this.onOversize(bytes, tail, head),
      onExit: (exit) => this.onExit(exit),
    })
    this.child = child
    if (child.pid !== undefined) {
      logger.info('child started', {child: tag, pid: child.pid, command: spec.command})
      void this.options.registry.add(child.pid, tag)
    }
    const result = await new Promise<JsonRpcMessage>((resolve) => {
      const gid = this.ids.allocate()
      this.ids.add({
        gid,
        method: 'initialize',
        session: undefined,
        idJson: String(gid),
        progressToken: undefined,
        exchange: undefined,
        deadline: this.options.clock.now() + (this.options.initializeTimeoutMs ?? this.options.requestTimeoutMs),
        onResponse: resolve,
      })
      const sent = child.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: gid,
          method: 'initialize',
          params: {protocolVersion: LATEST_VERSION, capabilities: RELAYED_CAPABILITIES, clientInfo: CLIENT_INFO},
        }),
      )
      if (!sent && !child.exited) this.ids.take(gid)?.onResponse?.({error: {message: 'could not write to the MCP server'}})
    })
    const init = result.result
    if (typeof init !== 'object' || init === null) {
      const reason = (result.error as {message?: unknown} | undefined)?.message
      throw new Error(`the MCP server did not initialize: ${typeof reason === 'string' ? reason : 'no result'}`)
    }
    child.send('{"jsonrpc":"2.0","method":"notifications/initialized"}')
    this.initResult = init as Record<string, unknown>
    return this.initResult
  }

  attach(session: Session): void {
    this.sessions.add(session)
    this.idleSince = undefined
  }

  detach(session: Session): void {
    if (!this.sessions.delete(session)) return
    for (const p of session.inflight.values()) {
      if (this.ids.take(p.gid)) this.cancelOnChild(p.gid, 'session ended')
      // The POST waiting for it gets its answer now, not at the request timeout.
      if (p.exchange?.reachable) p.exchange.final(errorJson(p.idJson, ErrorCode.ConnectionClosed, 'the session ended'))
    }
    session.inflight.clear()
    for (const childId of session.serverRequests.values()) {
      this.replyToChild(childId, ErrorCode.ConnectionClosed, 'the session ended before the client answered')
    }
    session.serverRequests.clear()
    if (this.sessions.size === 0) this.idleSince = this.options.clock.now()
  }

  // ---- client -> child ---------------------------------------------------------------------

  /** A request from a session's client; its answer goes to `exchange`. */
  forwardRequest(session: Session, msg: JsonRpcMessage, exchange: Exchange): void {
    const method = msg.method as string
    const idJson = JSON.stringify(msg.id)
    if (session.inflight.has(idJson)) {
      exchange.final(errorJson(idJson, ErrorCode.InvalidRequest, 'a request with this id is already in flight'))
      return
    }
    if (method === 'ping') {
      exchange.final(`{"jsonrpc":"2.0","id":${idJson},"result":{}}`)
      return
    }
    if (method === 'logging/setLevel' || method === 'resources/subscribe' || method === 'resources/unsubscribe') {
      if (this.sessionState(session, msg, idJson, exchange)) return
    }
    const gid = this.ids.allocate()
    let progressToken: unknown
    const meta = metaOf(msg)
    if (meta !== undefined && meta.progressToken !== undefined) {
      progressToken = meta.progressToken
      meta.progressToken = gid
    }
    msg.id = gid
    const p: Pending = {
      gid,
      method,
      session,
      idJson,
      progressToken,
      exchange,
      deadline: this.options.clock.now() + this.options.requestTimeoutMs,
    }
    this.ids.add(p)
    session.inflight.set(idJson, p)
    if (this.dead || !this.child?.send(JSON.stringify(msg))) {
      this.ids.take(gid)
      this.respond(p, errorJson(idJson, ErrorCode.ConnectionClosed, 'the MCP server is not running'))
    }
  }

  /**
   * Per-session state the child sees once for all sessions: the log level (the child gets the
   * most verbose any session asked for; each session gets only what it asked for) and resource
   * subscriptions (the child is subscribed while any session is). True when answered here.
   */
  private sessionState(session: Session, msg: JsonRpcMessage, idJson: string, exchange: Exchange): boolean {
    const params = paramsOf(msg)
    if (msg.method === 'logging/setLevel') {
      const rank = logLevelRank(params?.level)
      if (rank < 0) {
        exchange.final(errorJson(idJson, ErrorCode.InvalidParams, 'unknown log level'))
        return true
      }
      session.logLevel = rank
      let min = rank
      for (const s of this.sessions) min = Math.min(min, s.logLevel)
      params!.level = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'][min]
      return false
    }
    const uri = params?.uri
    if (typeof uri !== 'string') return false
    let others = false
    for (const s of this.sessions) if (s !== session && s.subscriptions.has(uri)) others = true
    if (msg.method === 'resources/subscribe') session.subscriptions.add(uri)
    else session.subscriptions.delete(uri)
    if (!others) return false
    exchange.final(`{"jsonrpc":"2.0","id":${idJson},"result":{}}`)
    return true
  }

  /** A notification from a session's client. */
  forwardNotification(session: Session, msg: JsonRpcMessage): void {
    const method = msg.method
    // The gateway initialized the child itself (lifecycle §Initialization); sessions' own
    // initialized notifications stop here.
    if (method === 'notifications/initialized') return
    if (method === 'notifications/cancelled') {
      // utilities-cancellation §Behavior Requirements: cancel only what this session has in flight.
      const params = paramsOf(msg)
      if (!params || !isId(params.requestId)) return
      const p = session.inflight.get(JSON.stringify(params.requestId))
      if (!p || p.method === 'initialize') return
      this.ids.take(p.gid)
      session.inflight.delete(p.idJson)
      params.requestId = p.gid
      this.child?.send(JSON.stringify(msg))
      p.exchange?.abandon()
      return
    }
    this.child?.send(JSON.stringify(msg))
  }

  /** A response from a session's client to a server-to-client request. */
  forwardResponse(session: Session, msg: JsonRpcMessage): void {
    if (typeof msg.id !== 'number' || !session.serverRequests.has(msg.id)) {
      this.logger.warn('client answered a request it was not sent; dropped', {session: session.id.slice(0, 8)})
      return
    }
    const childId = session.serverRequests.get(msg.id)
    session.serverRequests.delete(msg.id)
    msg.id = childId
    this.child?.send(JSON.stringify(msg))
  }

  // ---- child -> client ---------------------------------------------------------------------

  private onLine(line: string): void {
    // The fast path: a success response of the shape argued in response-line.ts.
    const tail = fastResponseId(line)
    if (tail !== undefined) {
      const p = this.ids.take(tail.id)
      if (p === undefined) {
        this.logger.warn('child answered an unknown or finished request; dropped', {child: this.options.tag, id: tail.id})
      } else if (p.onResponse) {
        p.onResponse(parseMessage(line) ?? {})
      } else {
        this.respond(p, replaceTrailingId(line, tail.at, p.idJson))
      }
      return
    }
    // Everything else is parsed and validated: only JSON-RPC 2.0 messages go on (child-message.ts).
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      return this.noise('not JSON', line.length)
    }
    const m = classifyChildMessage(value)
    if (m.kind === 'noise') this.noise(m.reason, line.length, m.keys)
    else if (m.kind === 'request') this.onChildRequest(m.msg)
    else if (m.kind === 'notification') this.onChildNotification(m.msg, line)
    else this.onChildResponse(m.msg)
  }

  private onOversize(bytes: number, tail: string, head: string): void {
    // The message is lost; if it was a response, fail that request now rather than at its timeout.
    const id = oversizedResponseId(head, tail)
    const p = typeof id === 'number' ? this.ids.take(id) : undefined
    this.logger.warn('child wrote a line longer than maxLineBytes; dropped', {
      child: this.options.tag,
      bytes,
      limit: this.options.maxLineBytes,
      request: p?.method,
    })
    if (p) this.fail(p, ErrorCode.InternalError, `the MCP server's message exceeded the ${this.options.maxLineBytes}-byte line limit`)
  }

  private onChildResponse(msg: JsonRpcMessage): void {
    const p = typeof msg.id === 'number' ? this.ids.take(msg.id) : undefined
    if (p === undefined) {
      this.logger.warn('child answered an unknown or finished request; dropped', {child: this.options.tag})
      return
    }
    if (p.onResponse) return p.onResponse(msg)
    msg.id = JSON.parse(p.idJson) as unknown
    this.respond(p, JSON.stringify(msg))
  }

  private onChildRequest(msg: JsonRpcMessage): void {
    const method = msg.method as string
    if (method === 'ping') {
      this.child?.send(`{"jsonrpc":"2.0","id":${JSON.stringify(msg.id)},"result":{}}`)
      return
    }
    const {session, pending} = this.attribute(msg)
    if (session === undefined) {
      this.logger.warn('server-to-client request maps to no single session; refused, not guessed', {child: this.options.tag, method})
      this.replyToChild(msg.id, ErrorCode.InternalError, `the gateway cannot tell which session ${method} is for`)
      return
    }
    const needs = capabilityFor(method)
    if (needs !== undefined && !session.capabilities[needs]) {
      this.replyToChild(msg.id, ErrorCode.MethodNotFound, `the client did not declare the ${needs} capability`)
      return
    }
    const sid = this.nextServerRequest++
    session.serverRequests.set(sid, msg.id)
    msg.id = sid
    const json = JSON.stringify(msg)
    if (pending?.exchange?.reachable) pending.exchange.related(json)
    else session.sendUnrelated(json)
  }

  private onChildNotification(msg: JsonRpcMessage, line: string): void {
    const method = msg.method as string
    if (listChanged.has(method)) {
      for (const s of this.sessions) s.sendUnrelated(line)
      return
    }
    const params = paramsOf(msg)
    if (method === 'notifications/progress') {
      const token = params?.progressToken
      const p = typeof token === 'number' ? this.ids.get(token) : undefined
      if (!p?.session || p.progressToken === undefined || !p.exchange?.reachable) {
        this.logger.debug('progress for no live request; dropped', {child: this.options.tag})
        return
      }
      params!.progressToken = p.progressToken
      p.exchange.related(JSON.stringify(msg))
      return
    }
    if (method === 'notifications/resources/updated') {
      const uri = params?.uri
      for (const s of this.sessions) if (typeof uri === 'string' && s.subscriptions.has(uri)) s.sendUnrelated(line)
      return
    }
    if (method === 'notifications/cancelled') {
      // The child cancels one of its own server-to-client requests.
      const childId = params?.requestId
      for (const s of this.sessions) {
        for (const [sid, cid] of s.serverRequests) {
          if (cid !== childId) continue
          s.serverRequests.delete(sid)
          params!.requestId = sid
          s.sendUnrelated(JSON.stringify(msg))
          return
        }
      }
      return
    }
    const rank = method === 'notifications/message' ? logLevelRank(params?.level) : Infinity
    const {session, pending} = this.attribute(msg)
    if (session !== undefined) {
      if (rank < session.logLevel) return
      if (pending?.exchange?.reachable) pending.exchange.related(line)
      else session.sendUnrelated(line)
      return
    }
    if (!this.options.shared && method === 'notifications/message') {
      // One client's child: its log is that client's, for each of its sessions at their level.
      for (const s of this.sessions) if (rank >= s.logLevel) s.sendUnrelated(line)
      return
    }
    // Delivered to no one (issue 11, item 14): which session it is for would be a guess.
    this.logger.warn('notification maps to no single session; dropped, not guessed', {child: this.options.tag, method})
  }

  /**
   * Which session (and which of its requests) a message from the child belongs to, when that is
   * known rather than guessed: the request whose (rewritten) progress token it carries in _meta;
   * else, on a child that serves one client and has exactly one session, that session (and its
   * request, if it has exactly one in flight). Undefined otherwise: the caller drops the
   * message (or refuses the request) and logs it.
   */
  private attribute(msg: JsonRpcMessage): {session?: Session; pending?: Pending} {
    const token = metaOf(msg)?.progressToken
    if (typeof token === 'number') {
      const p = this.ids.get(token)
      if (p?.session && !p.session.closed) return {session: p.session, pending: p}
    }
    // Never a guess across clients: a shared child's sessions belong to different clients
    // (issue 11 item 14), so without a progress token its message goes to no one.
    if (this.options.shared) return {}
    // Every session of this child is the same client's. A server sends a request or a
    // request-scoped notification while serving a request of the client's (MCP 2025-11-25
    // transports §Sending Messages, 6), so when exactly one session has requests in flight (or
    // only one session exists) it is that session's; more than one busy session stays a guess.
    let only: Session | undefined
    if (this.sessions.size === 1) only = this.sessions.values().next().value!
    else {
      for (const s of this.sessions.values()) {
        if (s.inflight.size === 0) continue
        if (only !== undefined) return {}
        only = s
      }
    }
    if (only === undefined) return {}
    const pending = only.inflight.size === 1 ? only.inflight.values().next().value : undefined
    return {session: only, pending}
  }

  // ---- plumbing ----------------------------------------------------------------------------

  private respond(p: Pending, json: string): void {
    p.session?.inflight.delete(p.idJson)
    if (p.exchange?.reachable) p.exchange.final(json)
    else this.logger.debug('response for a client that has gone; dropped', {child: this.options.tag, method: p.method})
  }

  private fail(p: Pending, code: number, message: string): void {
    if (p.onResponse) p.onResponse({error: {code, message}})
    else this.respond(p, errorJson(p.idJson, code, message))
  }

  private replyToChild(childId: unknown, code: number, message: string): void {
    this.child?.send(JSON.stringify({jsonrpc: '2.0', id: childId, error: {code, message}}))
  }

  private cancelOnChild(gid: number, reason: string): void {
    this.child?.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":${gid},"reason":${JSON.stringify(reason)}}}`)
  }

  /** Times out requests past their deadline (with a JSON-RPC error, and a cancellation to the child). */
  sweep(now: number): void {
    let expired: Pending[] | undefined
    for (const p of this.ids.values()) if (p.deadline <= now) (expired ??= []).push(p)
    if (!expired) return
    for (const p of expired) {
      this.ids.take(p.gid)
      this.logger.warn('request to the MCP server timed out', {child: this.options.tag, method: p.method})
      if (!p.onResponse) this.cancelOnChild(p.gid, 'timed out')
      this.fail(p, ErrorCode.RequestTimeout, `the MCP server did not answer within ${this.options.requestTimeoutMs} ms`)
    }
  }

  private onExit(exit: ChildExit): void {
    this.dead = true
    const {tag, logger} = this.options
    if (exit.spawnError) logger.error('child could not be started', {child: tag, error: exit.spawnError.message})
    // Stopped by us (daemon stopping, idle, revoked): expected, so info; on its own: a warning.
    else if (this.stopping) logger.info('child stopped', {child: tag, pid: this.child?.pid, code: exit.code, signal: exit.signal})
    else logger.warn('child exited', {child: tag, pid: this.child?.pid, code: exit.code, signal: exit.signal})
    if (this.child?.pid !== undefined) void this.options.registry.remove(this.child.pid)
    const reason = exit.spawnError ? `the MCP server could not be started: ${exit.spawnError.message}` : 'the MCP server exited'
    // Every pending request gets its error at once (not at its timeout).
    for (const p of this.ids.drain()) this.fail(p, ErrorCode.ConnectionClosed, reason)
    const sessions = [...this.sessions]
    this.options.onExit(this, sessions)
  }

  /** Stops the child: SIGTERM, then SIGKILL after graceMs; resolves when it has exited. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true
    if (this.child === undefined) await this.ready.catch(() => {})
    await this.child?.stop(graceMs)
  }
}
