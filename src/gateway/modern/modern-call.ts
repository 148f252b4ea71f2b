/**
 * One 2026-07-28 request as a Caller (caller.ts): it lives for one POST, with the version,
 * capabilities and log level its own `_meta` declared (2026-07-28 basic-index §_meta: "Servers
 * MUST NOT rely on prior requests ... to carry this metadata"), and no session. Its response is
 * a JSON body or an SSE stream without event ids (transports-streamable-http: no resumption).
 */
import type {Principal} from '../../principal/principal.js'
import type {Caller, ClientCapabilities} from '../caller.js'
import type {StreamFactory} from '../exchange.js'
import type {Pending} from '../id-map.js'
import {DEFAULT_MAX_UNSENT_BYTES, SseStream} from '../sse.js'
import type {Envelope} from './envelope.js'

export class ModernCall implements Caller, StreamFactory {
  readonly era = 'modern' as const
  readonly inflight = new Map<string, Pending>()
  readonly tag = 'request'
  readonly protocolVersion: string
  readonly capabilities: ClientCapabilities
  logLevel: number
  closed = false

  constructor(
    readonly principal: Principal,
    envelope: Envelope,
    /** The request's method and the tool/prompt name or resource URI it names (null for none): what a requestState is bound to. */
    readonly method: string,
    readonly target: string | null,
    private readonly maxUnsentBytes = DEFAULT_MAX_UNSENT_BYTES,
  ) {
    this.protocolVersion = envelope.version
    this.capabilities = envelope.capabilities
    this.logLevel = envelope.logLevel
  }

  get clientId(): string {
    return this.principal.clientId
  }

  /** Nothing unrelated reaches a 2026 request's stream (it has no other stream either). */
  sendUnrelated(): void {}

  openStream(): SseStream {
    return new SseStream(1, undefined, this.maxUnsentBytes)
  }
}
