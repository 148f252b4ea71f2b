/**
 * The gateway's link to one child MCP server process: spawning it, the handshake (a
 * `server/discover` probe, then `initialize` for a 2025 child), the gateway's own requests to
 * it, and its exit. It knows nothing of callers: what the child writes goes to `onLine`, and
 * its exit to `onExit`, for the multiplexer to route (multiplexer.ts).
 *
 * The gateway initializes the child once, declaring every client capability it can relay
 * (DESIGN.md, notes on client mode: servers may register tools only when a client declares a
 * capability, so the child must see the widest set).
 *
 * A child whose handshake fails (error, timeout, garbage) is stopped at once, SIGTERM then
 * SIGKILL after the grace, so that no failed attempt leaves a live process (issue 11, item 18).
 */
import type {Clock} from '../clock.js'
import type {Logger} from '../log.js'
import type {ChildRegistry} from './child-registry.js'
import {startChild, type ChildProcess, type ChildSpec} from './child-process.js'
import {DEFAULT_DISCOVER_TIMEOUT_MS, discoverParams, readProbe, type ChildEra} from './child-era.js'
import type {IdMap} from './id-map.js'
import {ErrorCode, type JsonRpcMessage} from './json-rpc.js'
import {LATEST_VERSION} from './protocol-version.js'

/** What the gateway declares to every child: the widest set of client capabilities it can relay. */
export const RELAYED_CAPABILITIES = {roots: {listChanged: true}, sampling: {}, elicitation: {form: {}, url: {}}}
/** The gateway's Implementation, as the child sees its client. */
export const CLIENT_INFO = {name: 'gatehouse', version: '0.1.0'}

export interface ChildLinkOptions {
  /** Names the child in logs (`<client>#<n>`). */
  tag: string
  spec: ChildSpec
  /** Runs before spawning (e.g. creating the default server's data directory). */
  prepare?: () => Promise<void>
  logger: Logger
  clock: Clock
  /** Where the pid is recorded, so a later daemon can reap it (reaper.ts). */
  registry: ChildRegistry
  maxLineBytes: number
  /** Deadline (ms) of the gateway's own requests after the handshake (tools/list). */
  requestTimeoutMs: number
  /** How long the child may take to answer the gateway's initialize (ms); default requestTimeoutMs. */
  initializeTimeoutMs?: number
  /** Silence (ms) on `server/discover` that means a 2025 child; at most the initialize timeout; 0: no probe. */
  discoverTimeoutMs?: number
  /** SIGTERM to SIGKILL (ms), when a child that failed its handshake is stopped. */
  killGraceMs: number
  /** The child's request ids, shared with the callers' requests (one id space per child). */
  ids: IdMap
  /** Each line the child writes on stdout (framing.ts), in order. */
  onLine(line: string): void
  /** A line longer than maxLineBytes was dropped: its size, and its last and first bytes. */
  onOversize(bytes: number, tail: string, head: string): void
  /** Called once when the child has exited (or failed to start), after `dead` is set; `reason` for callers. */
  onExit(reason: string): void
}

/** One child process and the gateway's side of its handshake; starts the child on construction (`ready`). */
export class ChildLink {
  /** Resolves with the child's InitializeResult (or the discover result of a 2026 child); rejects when the handshake failed. */
  readonly ready: Promise<Record<string, unknown>>
  initResult: Record<string, unknown> | undefined
  /** What the child speaks, known once `ready` resolves (child-era.ts): 2025 (initialize) or 2026-07-28. */
  era: ChildEra = 'legacy'
  /** True once the child has exited, failed to start, or failed its handshake. */
  dead = false
  private child: ChildProcess | undefined
  private stopping = false

  constructor(private readonly options: ChildLinkOptions) {
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

  /** Writes one line to the child; false when there is no child or it cannot be written to. */
  send(line: string): boolean {
    return this.child?.send(line) ?? false
  }

  /** Answers one of the child's own requests (`childId`, as the child sent it) with a JSON-RPC error. */
  replyError(childId: unknown, code: number, message: string): void {
    this.child?.send(JSON.stringify({jsonrpc: '2.0', id: childId, error: {code, message}}))
  }

  /** Tells the child that its request `gid` is cancelled (utilities-cancellation). */
  cancel(gid: number, reason: string): void {
    this.child?.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":${gid},"reason":${JSON.stringify(reason)}}}`)
  }

  /** The 2026 per-request `_meta` of the gateway's own requests to a 2026-07-28 child (child-era.ts). */
  ownMeta(): unknown {
    return discoverParams(RELAYED_CAPABILITIES, CLIENT_INFO)._meta
  }

  private async start(): Promise<Record<string, unknown>> {
    try {
      return await this.handshake()
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

  private async handshake(): Promise<Record<string, unknown>> {
    const {spec, tag, logger} = this.options
    await this.options.prepare?.()
    if (this.stopping) throw new Error('the child was stopped before it started')
    const child = startChild({
      spec,
      tag,
      logger,
      maxLineBytes: this.options.maxLineBytes,
      onLine: (line) => this.options.onLine(line),
      onOversize: (bytes, tail, head) => this.options.onOversize(bytes, tail, head),
      onExit: (exit) => {
        this.dead = true
        // Stopped by us (daemon stopping, idle, revoked): expected, so info; on its own: a warning.
        if (exit.spawnError) logger.error('child could not be started', {child: tag, error: exit.spawnError.message})
        else if (this.stopping) logger.info('child stopped', {child: tag, pid: child.pid, code: exit.code, signal: exit.signal})
        else logger.warn('child exited', {child: tag, pid: child.pid, code: exit.code, signal: exit.signal})
        if (child.pid !== undefined) void this.options.registry.remove(child.pid)
        this.options.onExit(exit.spawnError ? `the MCP server could not be started: ${exit.spawnError.message}` : 'the MCP server exited')
      },
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
      const answer = await this.call('server/discover', discoverParams(RELAYED_CAPABILITIES, CLIENT_INFO), discoverTimeoutMs)
      const probe = readProbe(answer)
      if (probe.era === 'none') throw new Error(`the MCP server cannot be spoken to: ${probe.reason}`)
      if (probe.era === 'modern') {
        this.era = 'modern'
        this.initResult = probe.init
        logger.info('child speaks 2026-07-28', {child: tag})
        return this.initResult
      }
      if (child.exited) {
        const reason = (answer.error as {message?: unknown} | undefined)?.message
        throw new Error(`the MCP server did not initialize: ${typeof reason === 'string' ? reason : 'it exited'}`)
      }
    }
    // MCP 2025-11-25 lifecycle §Initialization: initialize, then notifications/initialized.
    const result = await this.call('initialize', {protocolVersion: LATEST_VERSION, capabilities: RELAYED_CAPABILITIES, clientInfo: CLIENT_INFO}, initializeTimeoutMs)
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
   * A request of the gateway's own to the child, awaited: resolves with the child's response
   * message, or with `{error: {message}}` of the gateway's when the child does not answer within
   * `timeoutMs` (the multiplexer's sweep), exits, or cannot be written to. Never rejects.
   */
  call(method: string, params: Record<string, unknown>, timeoutMs: number): Promise<JsonRpcMessage> {
    return new Promise<JsonRpcMessage>((resolve) => {
      const child = this.child
      const {ids} = this.options
      const gid = ids.allocate()
      ids.add({gid, method, caller: undefined, idJson: String(gid), progressToken: undefined, exchange: undefined, deadline: this.options.clock.now() + timeoutMs, onResponse: resolve})
      if (child === undefined) return void ids.take(gid)?.onResponse?.({error: {code: ErrorCode.ConnectionClosed, message: 'the MCP server is not running'}})
      const sent = child.send(JSON.stringify({jsonrpc: '2.0', id: gid, method, params}))
      if (!sent && !child.exited) ids.take(gid)?.onResponse?.({error: {message: 'could not write to the MCP server'}})
    })
  }

  /**
   * A request of the gateway's own whose answer nobody awaits (resources/subscribe and the like);
   * `deadline` in ms on the clock (default: now + requestTimeoutMs); `onResponse` gets the answer.
   * Returns its id, or undefined when the child is not running.
   */
  request(method: string, params: Record<string, unknown>, deadline?: number, onResponse: (message: JsonRpcMessage) => void = () => {}): number | undefined {
    if (this.dead || !this.child) return undefined
    const {ids} = this.options
    const gid = ids.allocate()
    ids.add({gid, method, caller: undefined, idJson: String(gid), progressToken: undefined, exchange: undefined, deadline: deadline ?? this.options.clock.now() + this.options.requestTimeoutMs, onResponse})
    this.child.send(JSON.stringify({jsonrpc: '2.0', id: gid, method, params}))
    return gid
  }

  /** Stops the child: SIGTERM, then SIGKILL after graceMs; resolves when it has exited. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true
    if (this.child === undefined) await this.ready.catch(() => {})
    await this.child?.stop(graceMs)
  }
}
