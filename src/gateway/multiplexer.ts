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
import {logLevelRank, type Caller} from './caller.js'
import type {ChangeListener} from './change-listener.js'
import {childListenFilter, DEFAULT_DISCOVER_TIMEOUT_MS, discoverParams, isInputRequired, legacyEnvelope, readProbe, type ChildEra} from './child-era.js'
import {addToolsPage, type ToolHeaders} from './modern/tool-headers.js'
import {capabilityFor, InputRelay, isRelayedQuestion, MAX_INPUT_ROUNDS, readQuestions} from './input-relay.js'
import type {Session, SessionHost} from './session.js'

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
  /**
   * How long the child may stay silent on the gateway's `server/discover` probe before it is
   * taken for a 2025 child (child-era.ts); at most the initialize timeout. 0: no probe, always
   * 2025. Default DEFAULT_DISCOVER_TIMEOUT_MS.
   */
  discoverTimeoutMs?: number
  /** SIGTERM to SIGKILL, when a child that failed to initialize is stopped. */
  killGraceMs: number
  /** Called once when the child has exited (or failed to start); its sessions must be ended. */
  onExit(mux: Multiplexer, sessions: Session[]): void
  /**
   * The child asked a 2026 caller something (sampling, elicitation, roots) while serving its
   * request `pending`: answered with an InputRequiredResult (modern/input-required.ts). Absent:
   * the child gets an error, as for a caller that did not declare the capability.
   */
  onInputRequired?(caller: Caller, pending: Pending, msg: JsonRpcMessage, mux: Multiplexer): void
}

/** What the gateway declares to every child: the widest set of client capabilities it can relay. */
const RELAYED_CAPABILITIES = {roots: {listChanged: true}, sampling: {}, elicitation: {form: {}, url: {}}}
const CLIENT_INFO = {name: 'gatehouse', version: '0.1.0'}
/** Pages of the child's tools/list read for x-mcp-header declarations. */
const MAX_TOOL_PAGES = 20


const listChanged = new Set([
  'notifications/tools/list_changed',
  'notifications/resources/list_changed',
  'notifications/prompts/list_changed',
])

/** The 2026 per-request _meta keys (basic-index §_meta): a 2025 child has no use for them. */
const MODERN_META_KEYS = ['io.modelcontextprotocol/protocolVersion', 'io.modelcontextprotocol/clientInfo', 'io.modelcontextprotocol/clientCapabilities', 'io.modelcontextprotocol/logLevel']
const stripModernMeta = (meta: Record<string, unknown>) => {
  for (const k of MODERN_META_KEYS) delete meta[k]
}

const errorJson = (idJson: string, code: number, message: string) =>
  `{"jsonrpc":"2.0","id":${idJson},"error":${JSON.stringify({code, message})}}`

export class Multiplexer implements SessionHost {
  readonly sessions = new Set<Session>()
  /** 2026 `subscriptions/listen` streams on this child (modern/listen.ts). */
  readonly listeners = new Set<ChangeListener>()
  /** 2026 callers with a request in flight here (each lives for one POST). */
  private readonly modern = new Set<Caller>()
  readonly ready: Promise<Record<string, unknown>>
  initResult: Record<string, unknown> | undefined
  /** What the child speaks, known once `ready` resolves (child-era.ts): 2025 (initialize) or 2026-07-28. */
  era: ChildEra = 'legacy'
  dead = false
  /** When the last session left; undefined while there are sessions. */
  idleSince: number | undefined
  /** Sessions being started on this child (initialize in progress): it is not idle meanwhile. */
  private claims = 0
  private child: ChildProcess | undefined
  private stopping = false
  private readonly ids = new IdMap()
  private nextServerRequest = 1
  /** A modern child's change notifications come on one subscriptions/listen of the gateway's (its request id here). */
  private childListen: number | undefined
  private childListenKey: string | undefined
  /** The child's tools' x-mcp-header declarations (modern/tool-headers.ts); dropped on tools/list_changed. */
  private toolHeaderCache: Promise<ToolHeaders> | undefined
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
    const inflight = this.ids.size - (this.childListen !== undefined ? 1 : 0)
    return this.sessions.size === 0 && this.listeners.size === 0 && this.claims === 0 && inflight === 0 && this.idleSince !== undefined && now - this.idleSince >= idleForMs
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
    const initializeTimeoutMs = this.options.initializeTimeoutMs ?? this.options.requestTimeoutMs
    const discoverTimeoutMs = Math.min(this.options.discoverTimeoutMs ?? DEFAULT_DISCOVER_TIMEOUT_MS, initializeTimeoutMs)
    if (discoverTimeoutMs > 0) {
      // 2026-07-28 transports-stdio §Backward Compatibility: probe first; silence or any
      // non-modern error means a 2025 child (child-era.ts).
      const answer = await this.ownCall(child, 'server/discover', discoverParams(RELAYED_CAPABILITIES, CLIENT_INFO), discoverTimeoutMs)
      const probe = readProbe(answer)
      if (probe.era === 'none') throw new Error(`the MCP server cannot be spoken to: ${probe.reason}`)
      if (probe.era === 'modern') {
        this.era = 'modern'
        this.initResult = probe.init
        logger.info('child speaks 2026-07-28', {child: tag})
        this.listenOnChild()
        return this.initResult
      }
      if (child.exited) {
        const reason = (answer.error as {message?: unknown} | undefined)?.message
        throw new Error(`the MCP server did not initialize: ${typeof reason === 'string' ? reason : 'it exited'}`)
      }
    }
    const result = await this.ownCall(child, 'initialize', {protocolVersion: LATEST_VERSION, capabilities: RELAYED_CAPABILITIES, clientInfo: CLIENT_INFO}, initializeTimeoutMs)
    const init = result.result
    if (typeof init !== 'object' || init === null) {
      const reason = (result.error as {message?: unknown} | undefined)?.message
      throw new Error(`the MCP server did not initialize: ${typeof reason === 'string' ? reason : 'no result'}`)
    }
    child.send('{"jsonrpc":"2.0","method":"notifications/initialized"}')
    this.initResult = init as Record<string, unknown>
    return this.initResult
  }

  /**
   * A request of the gateway's own to the child, awaited: resolves with the child's response,
   * or with an error message of the gateway's when the child does not answer within
   * `timeoutMs` (swept), exits, or cannot be written to.
   */
  private ownCall(child: ChildProcess, method: string, params: Record<string, unknown>, timeoutMs: number): Promise<JsonRpcMessage> {
    return new Promise<JsonRpcMessage>((resolve) => {
      const gid = this.ids.allocate()
      this.ids.add({gid, method, caller: undefined, idJson: String(gid), progressToken: undefined, exchange: undefined, deadline: this.options.clock.now() + timeoutMs, onResponse: resolve})
      const sent = child.send(JSON.stringify({jsonrpc: '2.0', id: gid, method, params}))
      if (!sent && !child.exited) this.ids.take(gid)?.onResponse?.({error: {message: 'could not write to the MCP server'}})
    })
  }

  /**
   * The `x-mcp-header` declarations of the child's tools, from its tools/list (every page, at
   * most MAX_TOOL_PAGES), fetched once and kept until the child says its tools changed. When the
   * list cannot be had (error, timeout) the answer is empty and the next call asks again.
   */
  toolHeaders(): Promise<ToolHeaders> {
    this.toolHeaderCache ??= this.fetchToolHeaders().catch(() => {
      this.toolHeaderCache = undefined
      return new Map() as ToolHeaders
    })
    return this.toolHeaderCache
  }

  private async fetchToolHeaders(): Promise<ToolHeaders> {
    const headers: ToolHeaders = new Map()
    const child = this.child
    if (child === undefined || this.dead) throw new Error('no child')
    let cursor: unknown
    for (let page = 0; page < MAX_TOOL_PAGES; page++) {
      const params: Record<string, unknown> = cursor === undefined ? {} : {cursor}
      if (this.era === 'modern') params._meta = discoverParams(RELAYED_CAPABILITIES, CLIENT_INFO)._meta
      const answer = await this.ownCall(child, 'tools/list', params, this.options.requestTimeoutMs)
      if (typeof answer.result !== 'object' || answer.result === null) throw new Error('tools/list failed')
      addToolsPage(headers, answer.result)
      cursor = (answer.result as {nextCursor?: unknown}).nextCursor
      if (typeof cursor !== 'string') break
    }
    return headers
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
      if (isRelayedQuestion(childId)) continue
      this.replyToChild(childId, ErrorCode.ConnectionClosed, 'the session ended before the client answered')
    }
    session.serverRequests.clear()
    if (session.subscriptions.size > 0) this.listenOnChild()
    if (this.sessions.size === 0) this.idleSince = this.options.clock.now()
  }

  // ---- client -> child ---------------------------------------------------------------------

  /** A request from a caller (a session's client, or one 2026 request); its answer goes to `exchange`. */
  forwardRequest(caller: Caller, msg: JsonRpcMessage, exchange: Exchange): void {
    const method = msg.method as string
    const idJson = JSON.stringify(msg.id)
    if (caller.inflight.has(idJson)) {
      exchange.final(errorJson(idJson, ErrorCode.InvalidRequest, 'a request with this id is already in flight'))
      return
    }
    if (caller.era === 'legacy') {
      if (method === 'ping') {
        exchange.final(`{"jsonrpc":"2.0","id":${idJson},"result":{}}`)
        return
      }
      if (method === 'logging/setLevel' || method === 'resources/subscribe' || method === 'resources/unsubscribe') {
        if (this.sessionState(caller as Session, msg, idJson, exchange)) return
      }
    }
    const gid = this.ids.allocate()
    if (this.era === 'modern' && caller.era === 'legacy') {
      // A 2025 session's request to a 2026-07-28 child carries the session's envelope (child-era.ts).
      const params = paramsOf(msg) ?? ((msg.params = {}) as Record<string, unknown>)
      params._meta = {...metaOf(msg), ...legacyEnvelope(caller, CLIENT_INFO)}
    }
    let progressToken: unknown
    let meta = metaOf(msg)
    if (meta !== undefined && meta.progressToken !== undefined) {
      progressToken = meta.progressToken
      meta.progressToken = gid
    } else if (caller.era === 'modern') {
      // A 2026 request always carries the gateway's token to the child: a server that relates
      // what it sends to the request (progress, log, elicitation) by its token is then
      // attributed exactly, however many callers share the child.
      meta = (msg.params as Record<string, unknown>)._meta = {...meta, progressToken: gid}
    }
    // A 2025 child has no use for the 2026 envelope; a 2026 child gets the caller's as declared.
    if (caller.era === 'modern' && meta !== undefined && this.era === 'legacy') stripModernMeta(meta)
    msg.id = gid
    const p: Pending = {
      gid,
      method,
      caller,
      idJson,
      progressToken,
      exchange,
      deadline: this.options.clock.now() + this.options.requestTimeoutMs,
      ...(this.era === 'modern' && caller.era === 'legacy' ? {sent: msg} : {}),
    }
    this.ids.add(p)
    caller.inflight.set(idJson, p)
    if (caller.era === 'modern') this.modern.add(caller)
    if (this.dead || !this.child?.send(JSON.stringify(msg))) {
      this.ids.take(gid)
      this.respond(p, errorJson(idJson, ErrorCode.ConnectionClosed, 'the MCP server is not running'))
    }
  }

  /**
   * A 2026 caller closed its response stream: that cancels the request (2026-07-28
   * basic-patterns-cancellation; transports-streamable-http §Cancellation), so the child gets
   * `notifications/cancelled` for it and nothing more is sent for it.
   */
  cancelRequest(caller: Caller, idJson: string, reason: string): void {
    const p = caller.inflight.get(idJson)
    if (p === undefined) return
    this.forget(p)
    if (this.ids.take(p.gid)) this.cancelOnChild(p.gid, reason)
  }

  /**
   * The child's request `p` now waits for a 2026 caller's retry (modern/input-required.ts): it
   * belongs to no caller meanwhile, and its deadline is the parking's.
   */
  park(p: Pending, until: number): void {
    this.forget(p)
    p.parked = true
    p.exchange = undefined
    p.deadline = until
  }

  /**
   * A 2026 retry resumes parked request `gid`: the child gets the caller's answer to its own
   * request `childId`, and the final result goes to the retry's exchange under the retry's id.
   * False when the request is gone (it ended, timed out, or the child exited).
   */
  resume(gid: number, caller: Caller, idJson: string, exchange: Exchange, childId: unknown, answer: unknown): boolean {
    const p = this.ids.get(gid)
    if (p === undefined || !p.parked || this.dead) return false
    p.parked = false
    p.caller = caller
    p.idJson = idJson
    p.exchange = exchange
    p.deadline = this.options.clock.now() + this.options.requestTimeoutMs
    caller.inflight.set(idJson, p)
    this.modern.add(caller)
    this.child?.send(JSON.stringify({jsonrpc: '2.0', id: childId, result: answer}))
    return true
  }

  /** Ends a parked request that will not be resumed: the child's question gets an error, the request a cancellation. */
  abandonParked(gid: number, childId: unknown, reason: string): void {
    const p = this.ids.get(gid)
    if (p === undefined || !p.parked) return
    this.ids.take(gid)
    this.replyToChild(childId, ErrorCode.ConnectionClosed, reason)
    this.cancelOnChild(gid, reason)
  }

  /** Answers one of the child's own requests with an error (a question no caller may be asked). */
  refuseChildRequest(childId: unknown, code: number, message: string): void {
    this.replyToChild(childId, code, message)
  }

  /** The request no longer belongs to its caller (answered, cancelled or parked). */
  private forget(p: Pending): void {
    const caller = p.caller
    if (caller === undefined) return
    if (caller.inflight.get(p.idJson) === p) caller.inflight.delete(p.idJson)
    if (caller.era === 'modern' && caller.inflight.size === 0) this.modern.delete(caller)
  }

  // ---- 2026 subscriptions/listen ----------------------------------------------------------

  /**
   * A `subscriptions/listen` stream starts receiving this child's change notifications. Its
   * resource subscriptions reach the child as `resources/subscribe`, once per URI however many
   * sessions and listeners hold it (reference counted; 2026-07-28 basic-patterns-subscriptions).
   */
  addListener(listener: ChangeListener): void {
    if (this.era === 'legacy') for (const uri of listener.uris) if (!this.uriHeld(uri)) this.ownRequest('resources/subscribe', {uri})
    this.listeners.add(listener)
    this.listenOnChild()
    this.idleSince = undefined
  }

  removeListener(listener: ChangeListener): void {
    if (!this.listeners.delete(listener)) return
    if (this.era === 'legacy') for (const uri of listener.uris) if (!this.uriHeld(uri)) this.ownRequest('resources/unsubscribe', {uri})
    else this.listenOnChild()
    if (this.sessions.size === 0 && this.listeners.size === 0) this.idleSince = this.options.clock.now()
  }

  /** Whether a session or a listener (other than `except`) holds a subscription to `uri`. */
  private uriHeld(uri: string, except?: Session): boolean {
    for (const s of this.sessions) if (s !== except && s.subscriptions.has(uri)) return true
    for (const l of this.listeners) if (l.uris.has(uri)) return true
    return false
  }

  /**
   * A 2026-07-28 child sends change notifications only on a subscriptions/listen stream
   * (basic-patterns-subscriptions; transports-stdio §Receiving Messages, 3), so the gateway
   * holds one on it: every change type the child supports (sessions get list_changed as a 2025
   * child would send them; listeners get what they opted into) and every resource URI a session
   * or listener holds. When that set changes the new listen is opened before the old one is
   * cancelled (a change may arrive twice, none is missed). Its request never times out.
   */
  private listenOnChild(): void {
    if (this.era !== 'modern' || this.dead || !this.child) return
    const uris = new Set<string>()
    for (const s of this.sessions) for (const u of s.subscriptions) uris.add(u)
    for (const l of this.listeners) for (const u of l.uris) uris.add(u)
    const filter = childListenFilter((this.initResult?.capabilities ?? {}) as Record<string, unknown>, [...uris].sort())
    const key = JSON.stringify(filter)
    if (key === this.childListenKey) return
    this.childListenKey = key
    const old = this.childListen
    this.childListen = undefined
    if (Object.keys(filter).length > 0) {
      const gid = this.ids.allocate()
      const ended = () => {
        if (this.childListen !== gid) return
        this.childListen = undefined
        this.childListenKey = undefined
      }
      this.ids.add({gid, method: 'subscriptions/listen', caller: undefined, idJson: String(gid), progressToken: undefined, exchange: undefined, deadline: Infinity, onResponse: ended})
      this.childListen = gid
      const meta = discoverParams(RELAYED_CAPABILITIES, CLIENT_INFO)._meta
      this.child.send(JSON.stringify({jsonrpc: '2.0', id: gid, method: 'subscriptions/listen', params: {notifications: filter, _meta: meta}}))
    }
    if (old !== undefined && this.ids.take(old)) this.cancelOnChild(old, 'the subscriptions changed')
  }

  /** A request of the gateway's own to the child (its answer is not awaited by anyone). */
  private ownRequest(method: string, params: Record<string, unknown>): void {
    if (this.dead || !this.child) return
    const gid = this.ids.allocate()
    this.ids.add({gid, method, caller: undefined, idJson: String(gid), progressToken: undefined, exchange: undefined, deadline: this.options.clock.now() + this.options.requestTimeoutMs, onResponse: () => {}})
    this.child.send(JSON.stringify({jsonrpc: '2.0', id: gid, method, params}))
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
      // A 2026-07-28 child takes the level per request (child-era.ts legacyEnvelope): nothing to send.
      if (this.era === 'modern') {
        exchange.final(`{"jsonrpc":"2.0","id":${idJson},"result":{}}`)
        return true
      }
      let min = rank
      for (const s of this.sessions) min = Math.min(min, s.logLevel)
      params!.level = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'][min]
      return false
    }
    const uri = params?.uri
    if (typeof uri !== 'string') return false
    const others = this.uriHeld(uri, session)
    if (msg.method === 'resources/subscribe') session.subscriptions.add(uri)
    else session.subscriptions.delete(uri)
    if (this.era === 'modern') this.listenOnChild()
    else if (!others) return false
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
    if (isRelayedQuestion(childId)) return this.relayAnswer(session, childId, msg)
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
      } else if (p.sent !== undefined && line.includes('"input_required"')) {
        this.relayOrRespond(p, parseMessage(line) ?? {})
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
    if (p.sent !== undefined) return this.relayOrRespond(p, msg)
    msg.id = JSON.parse(p.idJson) as unknown
    this.respond(p, JSON.stringify(msg))
  }

  private onChildRequest(msg: JsonRpcMessage): void {
    const method = msg.method as string
    if (method === 'ping') {
      this.child?.send(`{"jsonrpc":"2.0","id":${JSON.stringify(msg.id)},"result":{}}`)
      return
    }
    const {caller, pending} = this.attribute(msg)
    if (caller === undefined) {
      this.logger.warn('server-to-client request maps to no single session; refused, not guessed', {child: this.options.tag, method, sessions: this.sessions.size, requests: this.modern.size})
      this.replyToChild(msg.id, ErrorCode.InternalError, `the gateway cannot tell which session ${method} is for`)
      return
    }
    const needs = capabilityFor(method)
    if (needs !== undefined && !caller.capabilities[needs]) {
      this.replyToChild(msg.id, ErrorCode.MethodNotFound, `the client did not declare the ${needs} capability`)
      return
    }
    if (caller.era === 'modern') {
      // 2026-07-28 basic-patterns-mrtr: the question goes back in the request's result.
      if (needs === undefined || pending === undefined || this.options.onInputRequired === undefined) {
        this.replyToChild(msg.id, ErrorCode.MethodNotFound, `${method} cannot be relayed to a 2026-07-28 client`)
        return
      }
      this.options.onInputRequired(caller, pending, msg, this)
      return
    }
    const session = caller as Session
    const sid = this.nextServerRequest++
    session.serverRequests.set(sid, msg.id)
    msg.id = sid
    const json = JSON.stringify(msg)
    if (pending?.exchange?.reachable) pending.exchange.related(json)
    else session.sendUnrelated(json)
  }

  private onChildNotification(msg: JsonRpcMessage, line: string): void {
    const method = msg.method as string
    // The acknowledgment of the gateway's own listen on a 2026-07-28 child (listenOnChild).
    if (method === 'notifications/subscriptions/acknowledged') return
    if (method === 'notifications/tools/list_changed') this.toolHeaderCache = undefined
    if (listChanged.has(method)) {
      for (const s of this.sessions) s.sendUnrelated(line)
      for (const l of this.listeners) if (l.wants(method)) l.deliver(msg)
      return
    }
    const params = paramsOf(msg)
    if (method === 'notifications/progress') {
      const token = params?.progressToken
      const p = typeof token === 'number' ? this.ids.get(token) : undefined
      if (!p?.caller || p.progressToken === undefined || !p.exchange?.reachable) {
        this.logger.debug('progress for no live request; dropped', {child: this.options.tag})
        return
      }
      params!.progressToken = p.progressToken
      p.exchange.related(JSON.stringify(msg))
      return
    }
    if (method === 'notifications/resources/updated') {
      const uri = params?.uri
      if (typeof uri !== 'string') return
      for (const s of this.sessions) if (s.subscriptions.has(uri)) s.sendUnrelated(line)
      for (const l of this.listeners) if (l.wants(method, uri)) l.deliver(msg)
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
    const {caller, pending} = this.attribute(msg)
    if (caller !== undefined) {
      if (rank < caller.logLevel) return
      if (pending?.exchange?.reachable) pending.exchange.related(line)
      else caller.sendUnrelated(line)
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
  private attribute(msg: JsonRpcMessage): {caller?: Caller; pending?: Pending} {
    const token = metaOf(msg)?.progressToken
    if (typeof token === 'number') {
      const p = this.ids.get(token)
      if (p?.caller && !p.caller.closed && !p.parked) return {caller: p.caller, pending: p}
    }
    // Never a guess across clients: a shared child's callers belong to different clients
    // (issue 11 item 14), so without a progress token its message goes to no one.
    if (this.options.shared) return {}
    // Every caller of this child (a 2025 session, or a 2026 request in flight) is the same
    // client's. A server sends a request or a request-scoped notification while serving a request
    // of the client's (MCP 2025-11-25 transports §Sending Messages, 6), so when exactly one caller
    // has requests in flight (or only one caller exists) it is that caller's; more than one busy
    // caller stays a guess. (2026 requests carry the gateway's own progress token, matched above.)
    let only: Caller | undefined
    if (this.sessions.size + this.modern.size === 1) only = this.sessions.size === 1 ? this.sessions.values().next().value! : this.modern.values().next().value!
    else {
      for (const c of [...this.sessions.values(), ...this.modern.values()]) {
        if (c.inflight.size === 0) continue
        if (only !== undefined) return {}
        only = c
      }
    }
    if (only === undefined) return {}
    const pending = only.inflight.size === 1 ? only.inflight.values().next().value : undefined
    return {caller: only, pending}
  }

  // ---- a 2026-07-28 child's input requests, answered by a 2025 session (input-relay.ts) -------

  /** The child's answer to a 2025 session's request: its result, or its questions relayed to the session. */
  private relayOrRespond(p: Pending, msg: JsonRpcMessage): void {
    if (!isInputRequired(msg.result)) {
      msg.id = JSON.parse(p.idJson) as unknown
      return this.respond(p, JSON.stringify(msg))
    }
    const session = p.caller as Session | undefined
    if (session === undefined || session.closed) return this.forget(p)
    const round = (p.relayRound ?? 0) + 1
    if (round > MAX_INPUT_ROUNDS) return this.fail(p, ErrorCode.InternalError, `the MCP server asked for input more than ${MAX_INPUT_ROUNDS} times for one request`)
    const questions = readQuestions(msg.result.inputRequests, (c) => session.capabilities[c])
    if ('error' in questions) return this.fail(p, questions.code, questions.error)
    if (questions.length === 0 && msg.result.requestState === undefined) return this.fail(p, ErrorCode.InternalError, 'the MCP server asked for input without inputRequests or requestState')
    const relay = new InputRelay(p.sent!, msg.result.requestState, round)
    // The request waits for the session's answers under its own id (bounded by its deadline, swept).
    p.relay = relay
    p.relayRound = round
    p.parked = true
    p.deadline = this.options.clock.now() + this.options.requestTimeoutMs
    this.ids.add(p)
    for (const [key, q] of questions) {
      relay.expect(key)
      const sid = this.nextServerRequest++
      session.serverRequests.set(sid, {relay, key, gid: p.gid})
      const json = JSON.stringify({jsonrpc: '2.0', id: sid, method: q.method, ...(q.params !== undefined ? {params: q.params} : {})})
      if (p.exchange?.reachable) p.exchange.related(json)
      else session.sendUnrelated(json)
    }
    if (questions.length === 0) this.retryWithInput(p)
  }

  /** The session answered one relayed question; the last answer sends the retry. */
  private relayAnswer(session: Session, q: {relay: InputRelay; key: string; gid?: number}, msg: JsonRpcMessage): void {
    const p = q.gid === undefined ? undefined : this.ids.get(q.gid)
    if (p === undefined || p.relay !== q.relay || p.caller !== session) return
    if (msg.error !== undefined) {
      this.ids.take(p.gid)
      const e = msg.error as {code?: unknown; message?: unknown}
      return this.fail(p, typeof e.code === 'number' ? e.code : ErrorCode.InternalError, `the client did not answer the MCP server's question: ${typeof e.message === 'string' ? e.message : 'error'}`)
    }
    if (q.relay.answer(q.key, msg.result)) this.retryWithInput(p)
  }

  /** Retries a request at the child with the session's answers and the child's requestState (a fresh id: basic-patterns-mrtr §Client Requirements, 4). */
  private retryWithInput(p: Pending): void {
    this.ids.take(p.gid)
    const retry = p.relay!.retry()
    const gid = this.ids.allocate()
    retry.id = gid
    const params = retry.params as Record<string, unknown>
    if (p.progressToken !== undefined) params._meta = {...(params._meta as Record<string, unknown>), progressToken: gid}
    const next: Pending = {gid, method: p.method, caller: p.caller, idJson: p.idJson, progressToken: p.progressToken, exchange: p.exchange, deadline: this.options.clock.now() + this.options.requestTimeoutMs, sent: retry, relayRound: p.relayRound}
    this.ids.add(next)
    p.caller!.inflight.set(p.idJson, next)
    if (this.dead || !this.child?.send(JSON.stringify(retry))) {
      this.ids.take(gid)
      this.respond(next, errorJson(p.idJson, ErrorCode.ConnectionClosed, 'the MCP server is not running'))
    }
  }

  // ---- plumbing ----------------------------------------------------------------------------

  private respond(p: Pending, json: string): void {
    this.forget(p)
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
