/**
 * A modern child's multi round-trip request, answered by a 2025 session (MCP 2026-07-28
 * basic-patterns-mrtr). The child answers the session's request with an InputRequiredResult;
 * a 2025 client knows nothing of that, but it can answer server-to-client requests. So each
 * entry of `inputRequests` goes to the session as a server-to-client request (on the request's
 * response stream, as a 2025 server would send it: transports §Sending Messages, 6), and once
 * every one is answered the gateway retries the original request at the child with
 * `inputResponses` (keyed as the child keyed its requests) and the child's `requestState`
 * echoed unchanged (§Client Requirements, 2 and 3). The result of the retry (which may ask
 * again, up to MAX_INPUT_ROUNDS) is the session's answer.
 *
 * Only what the session's client declared is asked (§Server Requirements, 7 holds for the
 * child; the gateway checks again): an undeclared one fails the request with a clear error.
 */
import {ErrorCode, type JsonRpcMessage} from './json-rpc.js'

/** Retries of one request with inputResponses before the gateway gives up (a child that asks forever). */
export const MAX_INPUT_ROUNDS = 8

/** The capability a 2025 client declares to be asked `method` (2025-11-25 client features). */
export const capabilityFor = (method: string): 'sampling' | 'elicitation' | 'roots' | undefined =>
  method === 'sampling/createMessage' ? 'sampling' : method === 'elicitation/create' ? 'elicitation' : method === 'roots/list' ? 'roots' : undefined

/** One round of input for one request: what was asked, what has been answered. */
export class InputRelay {
  readonly answers: Record<string, unknown> = {}
  private readonly waiting = new Set<string>()

  constructor(
    /** The request as last sent to the child (retried with the answers). */
    readonly request: JsonRpcMessage,
    /** The child's requestState, echoed unchanged; undefined when it sent none. */
    readonly requestState: unknown,
    readonly round: number,
  ) {}

  expect(key: string): void {
    this.waiting.add(key)
  }

  /** Records an answer; true when every question of the round has one. */
  answer(key: string, result: unknown): boolean {
    if (!this.waiting.delete(key)) return false
    this.answers[key] = result
    return this.waiting.size === 0
  }

  /** The retry (without id: the multiplexer gives it a fresh one, basic-patterns-mrtr §Client Requirements, 4). */
  retry(): JsonRpcMessage {
    const params: Record<string, unknown> = {...(this.request.params as Record<string, unknown>), inputResponses: this.answers}
    if (this.requestState !== undefined) params.requestState = this.requestState
    else delete params.requestState
    return {jsonrpc: '2.0', method: this.request.method, params}
  }
}

/** What the session's client answers a relayed question with: one entry of a relay. */
export interface RelayedQuestion {
  readonly relay: InputRelay
  readonly key: string
  /** The child-side id of the request waiting for it. */
  readonly gid: number
}

export const isRelayedQuestion = (v: unknown): v is RelayedQuestion => typeof v === 'object' && v !== null && (v as RelayedQuestion).relay instanceof InputRelay

/**
 * The questions of an InputRequiredResult, checked: each a `{method, params}` the relay can
 * ask. Returns an error message when one cannot be asked (malformed, or not declared by the
 * client: `declared(capability)` false).
 */
export function readQuestions(inputRequests: unknown, declared: (capability: 'sampling' | 'elicitation' | 'roots') => boolean): Array<[string, {method: string; params?: unknown}]> | {error: string; code: number} {
  // §InputRequiredResult: inputRequests is optional (a requestState alone means "retry with it").
  if (inputRequests === undefined) return []
  if (typeof inputRequests !== 'object' || inputRequests === null || Array.isArray(inputRequests)) {
    return {error: 'the MCP server sent a malformed inputRequests', code: ErrorCode.InternalError}
  }
  const out: Array<[string, {method: string; params?: unknown}]> = []
  for (const [key, q] of Object.entries(inputRequests as Record<string, unknown>)) {
    const method = typeof q === 'object' && q !== null ? (q as {method?: unknown}).method : undefined
    const needs = typeof method === 'string' ? capabilityFor(method) : undefined
    if (needs === undefined) return {error: `the MCP server asked for input the gateway cannot relay (${String(method)})`, code: ErrorCode.InternalError}
    if (!declared(needs)) return {error: `the MCP server needs the ${needs} capability, which the client did not declare`, code: ErrorCode.InvalidRequest}
    out.push([key, q as {method: string; params?: unknown}])
  }
  return out
}
