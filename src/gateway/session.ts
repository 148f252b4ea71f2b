/**
 * One MCP session (MCP 2025-11-25 transports §Session Management): bound to the OAuth client
 * that opened it, with its negotiated version, the capabilities its client declared, its log
 * level and resource subscriptions, its SSE streams and replay buffer, and the requests it has
 * in flight on its child.
 */
import {randomBytes} from 'node:crypto'
import type {ServerResponse} from 'node:http'
import type {Exchange} from './exchange.js'
import type {Pending} from './id-map.js'
import type {JsonRpcMessage} from './json-rpc.js'
import type {ProtocolVersion} from './protocol-version.js'
import {ReplayBuffer, SseStream} from './sse.js'
import type {Principal} from '../principal/principal.js'
import type {Caller, ClientCapabilities} from './caller.js'

export {LOG_LEVELS, logLevelRank, type ClientCapabilities} from './caller.js'

/** 256 random bits, base64url: visible ASCII only (transports §Session Management, 1). */
export const newSessionId = (): string => randomBytes(32).toString('base64url')

/** The part of a child supervisor a session talks to (multiplexer.ts). */
export interface SessionHost {
  forwardRequest(session: Session, msg: JsonRpcMessage, exchange: Exchange): void
  forwardNotification(session: Session, msg: JsonRpcMessage): void
  forwardResponse(session: Session, msg: JsonRpcMessage): void
  detach(session: Session): void
}

/** A 2025 session is a Caller for its whole life (caller.ts). */
export class Session implements Caller {
  readonly era = 'legacy' as const
  readonly id: string
  readonly replay: ReplayBuffer
  /** The standalone stream of GET (transports §Listening for Messages from the Server). */
  readonly standalone: SseStream
  /** Streams that can still be resumed with Last-Event-ID, by stream id. */
  readonly streams = new Map<number, SseStream>()
  /** Requests in flight, by the client's JSON-encoded id. */
  readonly inflight = new Map<string, Pending>()
  /** Server-to-client requests this session's client has to answer: session-visible id -> child's id. */
  readonly serverRequests = new Map<number, unknown>()
  readonly subscriptions = new Set<string>()
  /** Minimum severity of notifications/message this session wants; debug until it says otherwise. */
  logLevel = 0
  lastActivity: number
  /**
   * The principal of the latest request on this session (its token may have been refreshed since
   * initialize). Revocation is checked against it: when the client, this token or its grant is
   * revoked, the session ends with its streams (gateway.ts, issue 11 item 15).
   */
  current: Principal
  closed = false
  private nextStream = 1
  private readonly buffers: {maxUnsentBytes: number; onCut?: (stream: number, unsentBytes: number) => void}

  constructor(
    readonly principal: Principal,
    readonly protocolVersion: ProtocolVersion,
    readonly capabilities: ClientCapabilities,
    readonly host: SessionHost,
    buffers: {replayBufferEvents: number; maxUnsentBytes: number; onCut?: (stream: number, unsentBytes: number) => void; keepAliveMs?: number},
    now: number,
    id: string = newSessionId(),
  ) {
    this.id = id
    this.replay = new ReplayBuffer(buffers.replayBufferEvents)
    this.buffers = buffers
    // The GET stream is long-lived and often idle: it gets keep-alive comments (sse.ts).
    this.standalone = new SseStream(0, this.replay, buffers.maxUnsentBytes, buffers.onCut, buffers.keepAliveMs ?? 0)
    this.streams.set(0, this.standalone)
    this.lastActivity = now
    this.current = principal
  }

  get clientId(): string {
    return this.principal.clientId
  }

  /**
   * The session in log lines: 8 characters of its random part (not the whole id, which is the
   * session's handle; not its head, which on several nodes is the node id, the same for all).
   */
  get tag(): string {
    return this.id.slice(this.id.lastIndexOf('.') + 1).slice(0, 8)
  }

  openStream(): SseStream {
    const stream = new SseStream(this.nextStream++, this.replay, this.buffers.maxUnsentBytes, this.buffers.onCut)
    this.streams.set(stream.id, stream)
    // Keep resumable only streams whose events can still be in the buffer.
    if (this.streams.size > this.replay.capacity + 1) {
      for (const [id, s] of this.streams) {
        if (id !== 0 && s.ended) {
          this.streams.delete(id)
          break
        }
      }
    }
    return stream
  }

  /** Opens the standalone GET stream on `res`. */
  attachStandalone(res: ServerResponse): void {
    this.standalone.attach(res)
  }

  /** A message not related to any request: on the GET stream (buffered for resumption if none is open). */
  sendUnrelated(json: string): void {
    this.standalone.send(json)
  }

  /** Ends every stream; the session is gone. */
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const stream of this.streams.values()) stream.end()
    this.streams.clear()
  }
}
