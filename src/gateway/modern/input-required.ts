/**
 * Multi round-trip requests for 2025 children (MCP 2026-07-28 basic-patterns-mrtr). A 2025
 * child asks its client something (`elicitation/create`, `sampling/createMessage`,
 * `roots/list`) while serving a 2026 caller's request; a 2026 caller cannot be sent requests.
 * So the gateway answers the caller with an InputRequiredResult carrying the child's question,
 * keeps the child's request waiting ("parked"), and when the caller retries with
 * `inputResponses` and the `requestState`, answers the child and passes the call's real result
 * to the retry.
 *
 * Bounds: a parked request waits at most `ttlMs` (then the child's question gets an error and
 * its request a cancellation), and one OAuth client may have at most `maxPerClient` parked at
 * once (beyond that the child's question gets an error, as for an undeclared capability).
 * `requestState` is sealed (request-state.ts) and used once: a replay finds nothing parked.
 * With several nodes it names the node that holds the parked request, and a retry that reaches
 * another node is forwarded there (ParkedElsewhere; src/gateway/retry-forward.ts).
 */
import {randomBytes} from 'node:crypto'
import type {Clock} from '../../clock.js'
import type {Logger} from '../../log.js'
import type {Principal} from '../../principal/principal.js'
import type {Caller} from '../caller.js'
import type {Exchange} from '../exchange.js'
import type {Pending} from '../id-map.js'
import {ErrorCode, paramsOf, type JsonRpcMessage} from '../json-rpc.js'
import type {Multiplexer} from '../multiplexer.js'
import {Refusal} from '../policy-step.js'
import {idOf} from './envelope.js'
import type {ModernCall} from './modern-call.js'
import {createStateSealer} from './request-state.js'

export const DEFAULT_INPUT_TTL_MS = 5 * 60_000
export const DEFAULT_MAX_INPUT_PER_CLIENT = 16

interface Parked {
  id: string
  clientId: string
  method: string
  name: string | null
  gid: number
  childId: unknown
  /** The key of the child's question in inputRequests (and of its answer in inputResponses). */
  inputKey: string
  question: {method: string; params?: unknown}
  state: string
  mux: Multiplexer
  expires: number
}

/**
 * A retry whose requestState names another node as the holder of its parked request (several
 * daemons behind a balancer that is not sticky: basic-patterns-mrtr promises multi round-trip
 * requests without stateful load balancing). The endpoint forwards the retry to that node; where
 * it cannot (no forwarder, or the retry was already forwarded once) this is the same refusal as
 * for a request that has ended.
 */
export class ParkedElsewhere extends Refusal {
  constructor(
    readonly node: string,
    id: Refusal['id'],
  ) {
    super(400, ErrorCode.InvalidParams, 'Invalid params: requestState refused: it was already used, or its request has ended; send the request again without it', {}, undefined, id)
  }
}

export interface InputRequiredOptions {
  /** The daemon's MAC key (32 random bytes, made at start; never leaves the process). */
  key: Uint8Array
  /** This node's id, sealed into every requestState it mints (several daemons on one store). */
  nodeId?: string | undefined
  clock: Clock
  logger: Logger
  ttlMs?: number
  maxPerClient?: number
}

/** The parked requests of one gateway. */
export class InputRequiredStore {
  private readonly parked = new Map<string, Parked>()
  private readonly perClient = new Map<string, number>()
  private readonly sealer
  private readonly ttlMs: number
  private readonly maxPerClient: number

  constructor(private readonly options: InputRequiredOptions) {
    this.sealer = createStateSealer(options.key)
    this.ttlMs = options.ttlMs ?? DEFAULT_INPUT_TTL_MS
    this.maxPerClient = options.maxPerClient ?? DEFAULT_MAX_INPUT_PER_CLIENT
  }

  get size(): number {
    return this.parked.size
  }

  /** Multiplexer hook (MultiplexerOptions.onInputRequired): the child asked `caller` something while serving `pending`. */
  readonly onInputRequired = (caller: Caller, pending: Pending, msg: JsonRpcMessage, mux: Multiplexer): void => {
    const call = caller as ModernCall
    const exchange = pending.exchange
    if (pending.parked || exchange === undefined || !exchange.reachable) {
      mux.refuseChildRequest(msg.id, ErrorCode.InternalError, 'the request this question belongs to is not waiting for its answer')
      return
    }
    const count = this.perClient.get(call.clientId) ?? 0
    if (count >= this.maxPerClient) {
      this.options.logger.warn('a 2026 client has its most requests waiting for input; the question is refused', {client_id: call.clientId, limit: this.maxPerClient})
      mux.refuseChildRequest(msg.id, ErrorCode.InternalError, `the client already has ${this.maxPerClient} requests waiting for input`)
      return
    }
    const id = randomBytes(16).toString('base64url')
    const expires = this.options.clock.now() + this.ttlMs
    const state = this.sealer.seal({i: id, c: call.clientId, m: call.method, n: call.target, e: expires, ...(this.options.nodeId ? {o: this.options.nodeId} : {})})
    const params = withoutGatewayToken(msg.params)
    const question = {method: msg.method as string, ...(params !== undefined ? {params} : {})}
    const inputKey = (msg.method as string).split('/')[0]!
    const entry: Parked = {id, clientId: call.clientId, method: call.method, name: call.target, gid: pending.gid, childId: msg.id, inputKey, question, state, mux, expires}
    this.parked.set(id, entry)
    this.perClient.set(call.clientId, count + 1)
    const idJson = pending.idJson
    mux.park(pending, expires + 1000)
    exchange.final(inputRequiredJson(idJson, entry))
  }

  /**
   * A retry carrying `requestState`: checks the state (seal, client, request, expiry, still
   * parked), then resumes the parked request with the caller's answer; the final result goes
   * to `exchange`. Throws Refusal (400, -32602) for a state that fails any check, changing
   * nothing. An answer missing from `inputResponses` gets the same question again
   * (basic-patterns-mrtr §Error Handling).
   */
  resume(principal: Principal, msg: JsonRpcMessage, call: ModernCall, exchange: Exchange): void {
    const params = paramsOf(msg)!
    const refuse = (why: string) => new Refusal(400, ErrorCode.InvalidParams, `Invalid params: requestState refused: ${why}`, {}, undefined, idOf(msg))
    const raw = params.requestState
    if (typeof raw !== 'string') throw refuse('it must be a string')
    const payload = this.sealer.open(raw)
    // Another client's state is "failed verification" too: nothing is said about it.
    if (payload === undefined || payload.c !== principal.clientId || payload.s !== undefined) throw refuse('it failed verification')
    if (payload.m !== call.method || payload.n !== call.target) throw refuse('it belongs to another request')
    if (payload.e <= this.options.clock.now()) throw refuse('it has expired; send the request again without it')
    const entry = this.parked.get(payload.i)
    if (entry === undefined && payload.o !== undefined && payload.o !== this.options.nodeId) throw new ParkedElsewhere(payload.o, idOf(msg))
    if (entry === undefined || entry.state !== raw) throw refuse('it was already used, or its request has ended; send the request again without it')
    const responses = params.inputResponses
    const answer = typeof responses === 'object' && responses !== null && !Array.isArray(responses) ? (responses as Record<string, unknown>)[entry.inputKey] : undefined
    if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
      exchange.final(inputRequiredJson(JSON.stringify(msg.id), entry))
      return
    }
    this.take(entry)
    if (!entry.mux.resume(entry.gid, call, JSON.stringify(msg.id), exchange, entry.childId, answer)) {
      exchange.final(JSON.stringify({jsonrpc: '2.0', id: msg.id, error: {code: ErrorCode.InternalError, message: 'the request this requestState continued has ended (the MCP server stopped or timed out)'}}))
    }
  }

  /**
   * A 2026-07-28 child's InputRequiredResult goes to the 2026 caller as is (basic-patterns-mrtr),
   * but its `requestState` is sealed inside the gateway's own, bound to the caller's OAuth
   * client, the request's method and target, and an expiry: the child may share one process
   * among clients (`shared` isolation) and need not bind its state to a client it cannot see
   * (§Server Requirements, 4: the gateway is the server the client talks to).
   */
  sealChildState(call: ModernCall, state: string): string {
    return this.sealer.seal({i: '', c: call.clientId, m: call.method, n: call.target, e: this.options.clock.now() + this.ttlMs, s: state})
  }

  /**
   * The child's own requestState inside a retry's `requestState` (sealChildState), after the
   * same checks as `resume`; throws Refusal (400, -32602) otherwise, changing nothing. The
   * child enforces what single use its state needs (§Server Requirements, 6).
   */
  openChildState(principal: Principal, msg: JsonRpcMessage, call: ModernCall): string {
    const raw = paramsOf(msg)?.requestState
    const refuse = (why: string) => new Refusal(400, ErrorCode.InvalidParams, `Invalid params: requestState refused: ${why}`, {}, undefined, idOf(msg))
    if (typeof raw !== 'string') throw refuse('it must be a string')
    const payload = this.sealer.open(raw)
    if (payload === undefined || payload.c !== principal.clientId || payload.s === undefined) throw refuse('it failed verification')
    if (payload.m !== call.method || payload.n !== call.target) throw refuse('it belongs to another request')
    if (payload.e <= this.options.clock.now()) throw refuse('it has expired; send the request again without it')
    return payload.s
  }

  /** Ends parked requests past their time: the child's question gets an error, its request a cancellation. */
  sweep(now: number): void {
    for (const entry of this.parked.values()) {
      if (entry.expires > now) continue
      this.take(entry)
      this.options.logger.info('a request waiting for input expired', {client_id: entry.clientId, method: entry.method})
      entry.mux.abandonParked(entry.gid, entry.childId, 'the client did not answer in time')
    }
  }

  private take(entry: Parked): void {
    if (!this.parked.delete(entry.id)) return
    const n = (this.perClient.get(entry.clientId) ?? 1) - 1
    if (n <= 0) this.perClient.delete(entry.clientId)
    else this.perClient.set(entry.clientId, n)
  }
}

/** The InputRequiredResult answering request `idJson` with the parked question. */
function inputRequiredJson(idJson: string, entry: Parked): string {
  const result = {resultType: 'input_required', inputRequests: {[entry.inputKey]: entry.question}, requestState: entry.state}
  return `{"jsonrpc":"2.0","id":${idJson},"result":${JSON.stringify(result)}}`
}

/** The child's question without the progress token the gateway gave it (an internal number). */
function withoutGatewayToken(params: unknown): unknown {
  if (typeof params !== 'object' || params === null) return params
  const p = {...(params as Record<string, unknown>)}
  const meta = p._meta
  if (typeof meta === 'object' && meta !== null) {
    const m = {...(meta as Record<string, unknown>)}
    delete m.progressToken
    if (Object.keys(m).length === 0) delete p._meta
    else p._meta = m
  }
  return p
}
