/**
 * One POST that carries requests and waits for their answers. The response-mode rule
 * (MCP 2025-11-25 transports §Sending Messages, 5: the server "MUST either return
 * Content-Type: text/event-stream ... or Content-Type: application/json"):
 *
 *   A single request is answered with application/json, unless the server sends something
 *   related to it (a progress notification, a log message, a request such as sampling) before
 *   the response: then the POST switches to an SSE stream that carries those messages and ends
 *   with the response. A batch (2025-03-26 only) is always answered with SSE.
 *
 * The client must accept both (checked with 406 before we get here), so either is compliant;
 * the plain request/response path stays a single write of the child's line.
 */
import type {ServerResponse} from 'node:http'
import {ErrorCode, errorResponse, isId, jsonDepthExceeds, type JsonRpcMessage} from './json-rpc.js'
import {SseStream, type ReplayBuffer} from './sse.js'

/**
 * The policy's part in an exchange (scope-guard.ts): the scopes its answers were prepared for
 * (a stream resumed later is refused to a token without them), and a filter for the response of
 * each request that has one (list filtering), by the client's JSON-encoded id.
 */
export interface ExchangePolicy {
  scopes: readonly string[]
  filters: Map<string, (response: JsonRpcMessage) => void>
}

export interface StreamFactory {
  openStream(): SseStream
  replay?: ReplayBuffer
}

export class Exchange {
  private stream: SseStream | undefined
  private outstanding: number
  private closed = false
  /** Whether the (last) response was a JSON-RPC error; for the audit trail. */
  failed = false

  constructor(
    private readonly res: ServerResponse,
    private readonly streams: StreamFactory,
    requests: number,
    sseFromStart: boolean,
    /** Rewrites responses before they are sent (list filtering by scope), single request or batch alike. */
    private readonly policy?: ExchangePolicy,
    /** Rewrites each response after the policy (a 2026 caller's result shape, modern/result-shape.ts). */
    private readonly shape?: (json: string) => string,
  ) {
    this.outstanding = requests
    res.once('close', () => (this.closed = true))
    if (sseFromStart) this.upgrade()
  }

  /** False once the client has gone and nothing can reach it any more (no SSE stream to resume). */
  get reachable(): boolean {
    return this.stream !== undefined ? !this.stream.ended : !this.closed
  }

  /** A message related to one of this POST's requests, sent before its response. */
  related(json: string): void {
    if (!this.stream) this.upgrade()
    this.stream!.send(json)
  }

  /** The response to one of this POST's requests. */
  final(json: string): void {
    if (this.policy && this.policy.filters.size > 0) json = this.filtered(json)
    if (this.shape) json = this.shape(json)
    // The fast path's lines start with a result; anything else is looked at properly.
    this.failed = !json.startsWith('{"result"') && isError(json)
    this.outstanding--
    if (this.stream) {
      this.stream.send(json)
      if (this.outstanding <= 0) this.stream.end()
      return
    }
    if (this.closed || this.res.headersSent) return
    this.res.writeHead(200, {'content-type': 'application/json'})
    this.res.end(json)
  }

  /**
   * The client cancelled one of this POST's requests: it gets no response (utilities-cancellation
   * §Behavior Requirements, 4), and the POST ends once nothing else is outstanding: as an SSE
   * stream without a response, the one way to close a request's POST without answering it.
   */
  abandon(): void {
    this.outstanding--
    if (this.outstanding > 0) return
    if (!this.stream) this.upgrade()
    this.stream?.end()
  }

  /** The response after its request's filter, if it has one. */
  private filtered(json: string): string {
    let msg: JsonRpcMessage
    try {
      msg = JSON.parse(json) as JsonRpcMessage
    } catch {
      return json
    }
    const filter = isId(msg.id) ? this.policy!.filters.get(JSON.stringify(msg.id)) : undefined
    if (!filter) return json
    // Re-serializing recurses: a child's answer nested too deeply is an error, not a crash (item 23).
    if (jsonDepthExceeds(json)) return errorResponse(msg.id as string | number, ErrorCode.InternalError, 'the MCP server answered with JSON nested too deeply')
    filter(msg)
    return JSON.stringify(msg)
  }

  private upgrade(): void {
    if (this.res.headersSent) return
    this.stream = this.streams.openStream()
    if (this.policy) this.stream.heldScopes = this.policy.scopes
    if (!this.closed) this.stream.attach(this.res)
  }
}

function isError(json: string): boolean {
  try {
    return (JSON.parse(json) as {error?: unknown}).error !== undefined
  } catch {
    return true
  }
}
