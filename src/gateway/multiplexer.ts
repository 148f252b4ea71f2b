/**
 * One child MCP server and the callers multiplexed onto it (DESIGN.md, notes on client mode):
 * 2025 sessions, 2026-07-28 requests, 2026 listeners. The same code serves `session` isolation
 * (one session per child), `client`/`user` (one client's or person's callers) and `shared`
 * (callers of every client on one child). This file wires the parts and holds the caller-facing
 * verbs; each job has its own file:
 *
 *   child-link.ts           the process, its handshake (discover / initialize), own requests, exit
 *   id-rewrite.ts           ids, progress tokens and cancellations, caller <-> child
 *   child-routing.ts        child -> caller: responses, server-to-client requests, notifications
 *   child-requests.ts       requests in flight: sent, cancelled, parked, resumed, timed out
 *   child-callers.ts        who is here (sessions, 2026 requests, listeners), idleness
 *   child-subscriptions.ts  resource subscriptions and the gateway's listen on a 2026 child
 *   session-state.ts        a session's ping, log level and subscriptions
 *   session-input.ts        a 2026 child's input requests answered by a 2025 session
 *   child-tools.ts          the child's tools' x-mcp-header declarations
 */
import type {Caller} from './caller.js'
import type {ChangeListener} from './change-listener.js'
import {ChildCallers} from './child-callers.js'
import type {ChildEra} from './child-era.js'
import {ChildLink, type ChildLinkOptions} from './child-link.js'
import {ChildRequests} from './child-requests.js'
import {ChildRouter} from './child-routing.js'
import {ChildSubscriptions} from './child-subscriptions.js'
import {ToolHeaderCache} from './child-tools.js'
import type {Exchange} from './exchange.js'
import {IdMap, type Pending} from './id-map.js'
import {answerTarget, cancellationToChild, ServerRequestIds} from './id-rewrite.js'
import {isRelayedQuestion} from './input-relay.js'
import {ErrorCode, errorLine, type JsonRpcMessage} from './json-rpc.js'
import type {ToolHeaders} from './modern/tool-headers.js'
import type {Session, SessionHost} from './session.js'
import {SessionInput} from './session-input.js'
import {answerSessionState} from './session-state.js'

/** The child link's options (child-link.ts: spec, timeouts, registry, ...), and how its callers are served. */
export interface MultiplexerOptions extends Omit<ChildLinkOptions, 'ids' | 'onLine' | 'onOversize' | 'onExit'> {
  /** True when sessions of several clients share this child. */
  shared: boolean
  /** Called once when the child has exited (or failed to start); its sessions must be ended. */
  onExit(mux: Multiplexer, sessions: Session[]): void
  /**
   * The child asked a 2026 caller something (sampling, elicitation, roots) while serving its
   * request `pending`: answered with an InputRequiredResult (modern/input-required.ts). Absent:
   * the child gets an error, as for a caller that did not declare the capability.
   */
  onInputRequired?(caller: Caller, pending: Pending, msg: JsonRpcMessage, mux: Multiplexer): void
}

export class Multiplexer implements SessionHost {
  /** Resolves with the child's InitializeResult (a 2026 child: its discover result); rejects when it failed to start. */
  readonly ready: Promise<Record<string, unknown>>
  private readonly ids = new IdMap()
  private readonly link: ChildLink
  private readonly callers: ChildCallers
  private readonly subscriptions: ChildSubscriptions
  private readonly router: ChildRouter
  private readonly input: SessionInput
  private readonly requests: ChildRequests
  private readonly tools: ToolHeaderCache
  private readonly serverIds = new ServerRequestIds()

  constructor(private readonly options: MultiplexerOptions) {
    const {ids, serverIds} = this
    this.callers = new ChildCallers(options.clock)
    this.link = new ChildLink({
      ...options,
      ids,
      onLine: (line) => this.router.line(line),
      onOversize: (bytes, tail, head) => this.router.oversize(bytes, tail, head),
      onExit: (reason) => this.onExit(reason),
    })
    const {link, callers} = this
    this.tools = new ToolHeaderCache(link, options.requestTimeoutMs)
    this.subscriptions = new ChildSubscriptions(link, ids, callers)
    const onInputRequired = options.onInputRequired
    this.router = new ChildRouter({
      ...options,
      ids,
      link,
      callers,
      serverIds,
      tools: this.tools,
      relayOrRespond: (p, msg) => this.input.relayOrRespond(p, msg),
      askModern: onInputRequired && ((caller, pending, msg) => onInputRequired(caller, pending, msg, this)),
    })
    this.input = new SessionInput({ids, link, callers, serverIds, router: this.router, clock: options.clock, requestTimeoutMs: options.requestTimeoutMs})
    this.requests = new ChildRequests({...options, ids, link, callers, router: this.router})
    // A 2026-07-28 child sends change notifications only on a listen of the gateway's.
    this.ready = link.ready.then((init) => {
      this.subscriptions.refresh()
      return init
    })
    this.ready.catch(() => {})
  }

  get sessions(): ReadonlySet<Session> {
    return this.callers.sessions
  }

  get listeners(): ReadonlySet<ChangeListener> {
    return this.callers.listeners
  }

  get initResult(): Record<string, unknown> | undefined {
    return this.link.initResult
  }

  /** What the child speaks, known once `ready` resolves (child-era.ts). */
  get era(): ChildEra {
    return this.link.era
  }

  get dead(): boolean {
    return this.link.dead
  }

  /** When the last session or listener left; undefined while there are some. */
  get idleSince(): number | undefined {
    return this.callers.idleSince
  }

  get pid(): number | undefined {
    return this.link.pid
  }

  /** The child's last stderr lines (child-process.ts), for the console. */
  get stderrTail(): string[] {
    return this.link.stderrTail
  }

  /** True while its child process exists (started and not yet exited). */
  get running(): boolean {
    return this.link.running
  }

  get pendingCount(): number {
    return this.ids.size
  }

  /**
   * Whether the idle sweep may stop this child: no session, none being started, no listener,
   * nothing in flight, and idle for at least `idleForMs` (issue 11, item 19).
   */
  idleLongerThan(now: number, idleForMs: number): boolean {
    const inflight = this.ids.size - (this.subscriptions.childListen !== undefined ? 1 : 0)
    const since = this.callers.idleSince
    return this.callers.empty && inflight === 0 && since !== undefined && now - since >= idleForMs
  }

  /** Marks a session as being started on this child (see ChildCallers.claim); returns its release. */
  claim(): () => void {
    return this.callers.claim()
  }

  /** The child's tools' x-mcp-header declarations (child-tools.ts); never rejects. */
  toolHeaders(): Promise<ToolHeaders> {
    return this.tools.get()
  }

  attach(session: Session): void {
    this.callers.attach(session)
  }

  /** The session has ended: its requests and server-to-client requests end with it (child-requests.ts). */
  detach(session: Session): void {
    if (!this.callers.detach(session)) return
    this.requests.endSession(session, isRelayedQuestion)
    if (session.subscriptions.size > 0) this.subscriptions.refresh()
  }

  /** A request from a caller (a session's client, or one 2026 request); its answer goes to `exchange`. */
  forwardRequest(caller: Caller, msg: JsonRpcMessage, exchange: Exchange): void {
    const idJson = JSON.stringify(msg.id)
    if (caller.inflight.has(idJson)) return exchange.final(errorLine(idJson, ErrorCode.InvalidRequest, 'a request with this id is already in flight'))
    if (caller.era === 'legacy') {
      const state = {era: this.link.era, sessions: this.callers.sessions, subscriptions: this.subscriptions}
      if (answerSessionState(state, caller as Session, msg, idJson, exchange)) return
    }
    this.requests.send(caller, msg, idJson, exchange)
  }

  /** A 2026 caller closed its response stream: the request is cancelled at the child (child-requests.ts). */
  cancelRequest(caller: Caller, idJson: string, reason: string): void {
    this.requests.cancel(caller, idJson, reason)
  }

  /** See ChildRequests.park (modern/input-required.ts). */
  park(p: Pending, until: number): void {
    this.requests.park(p, until)
  }

  /** See ChildRequests.resume: false when the parked request is gone. */
  resume(gid: number, caller: Caller, idJson: string, exchange: Exchange, childId: unknown, answer: unknown): boolean {
    return this.requests.resume(gid, caller, idJson, exchange, childId, answer)
  }

  /** See ChildRequests.abandon. */
  abandonParked(gid: number, childId: unknown, reason: string): void {
    this.requests.abandon(gid, childId, reason)
  }

  /** Answers one of the child's own requests with an error (a question no caller may be asked). */
  refuseChildRequest(childId: unknown, code: number, message: string): void {
    this.link.replyError(childId, code, message)
  }

  /** A `subscriptions/listen` stream starts receiving this child's change notifications (child-subscriptions.ts). */
  addListener(listener: ChangeListener): void {
    this.subscriptions.addListener(listener)
  }

  removeListener(listener: ChangeListener): void {
    this.subscriptions.removeListener(listener)
  }

  /** A notification from a session's client. */
  forwardNotification(session: Session, msg: JsonRpcMessage): void {
    // The gateway initialized the child itself (lifecycle §Initialization); sessions' own
    // initialized notifications stop here.
    if (msg.method === 'notifications/initialized') return
    if (msg.method === 'notifications/cancelled') {
      const p = cancellationToChild(msg, session, this.ids)
      if (p === undefined) return
      this.link.send(JSON.stringify(msg))
      p.exchange?.abandon()
      return
    }
    this.link.send(JSON.stringify(msg))
  }

  /** A response from a session's client to a server-to-client request. */
  forwardResponse(session: Session, msg: JsonRpcMessage): void {
    const answered = answerTarget(msg, session)
    if (answered === undefined) {
      this.options.logger.warn('client answered a request it was not sent; dropped', {session: session.tag})
      return
    }
    if (isRelayedQuestion(answered.target)) return this.input.answer(session, answered.target, msg)
    msg.id = answered.target
    this.link.send(JSON.stringify(msg))
  }

  /** Times out requests past their deadline (clock ms). */
  sweep(now: number): void {
    this.requests.sweep(now)
  }

  private onExit(reason: string): void {
    this.requests.failAll(reason)
    this.options.onExit(this, [...this.callers.sessions])
  }

  /** Stops the child: SIGTERM, then SIGKILL after graceMs; resolves when it has exited. */
  async stop(graceMs: number): Promise<void> {
    await this.link.stop(graceMs)
  }
}
