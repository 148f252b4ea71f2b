/**
 * Server-Sent Events for the MCP endpoint (MCP 2025-11-25 transports §Sending Messages,
 * §Listening for Messages, §Resumability and Redelivery).
 *
 * A session has logical streams: one per POST answered with SSE, and the standalone stream of
 * GET (id 0). Every event gets an id `<stream>-<seq>`, unique within the session and naming
 * its stream, and is kept in the session's bounded replay buffer. A stream outlives its HTTP
 * connection: events sent while no connection is attached are only buffered, and a GET with
 * `Last-Event-ID` replays what followed that event on that stream only ("MUST NOT replay
 * messages that would have been delivered on a different stream") and re-attaches the stream.
 */
import type {ServerResponse} from 'node:http'

export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  // 2026-07-28 transports-streamable-http §Receiving Messages: keep proxies from buffering.
  'x-accel-buffering': 'no',
} as const

interface BufferedEvent {
  stream: number
  seq: number
  frame: string
}

/** A ring of the session's most recent events, across its streams. */
export class ReplayBuffer {
  private readonly ring: Array<BufferedEvent | undefined>
  private next = 0
  private size = 0

  constructor(readonly capacity: number) {
    this.ring = new Array<BufferedEvent | undefined>(Math.max(0, capacity))
  }

  add(event: BufferedEvent): void {
    if (this.capacity === 0) return
    this.ring[this.next] = event
    this.next = (this.next + 1) % this.capacity
    if (this.size < this.capacity) this.size++
  }

  /** Frames of `stream` after `seq`, oldest first. */
  after(stream: number, seq: number): string[] {
    const out: string[] = []
    const start = (this.next - this.size + this.capacity) % Math.max(1, this.capacity)
    for (let i = 0; i < this.size; i++) {
      const e = this.ring[(start + i) % this.capacity]
      if (e && e.stream === stream && e.seq > seq) out.push(e.frame)
    }
    return out
  }
}

export function parseEventId(value: string | string[] | undefined): {stream: number; seq: number} | undefined {
  const v = Array.isArray(value) ? value[0] : value
  const m = v === undefined ? null : /^(\d{1,15})-(\d{1,15})$/.exec(v)
  return m ? {stream: Number(m[1]), seq: Number(m[2])} : undefined
}

export const DEFAULT_MAX_UNSENT_BYTES = 8 * 1024 * 1024

/**
 * How often (ms) an idle long-lived stream (a session's GET stream, a 2026 subscriptions/listen
 * stream) gets a keep-alive comment: well under the idle read timeouts of common proxies
 * (nginx proxy_read_timeout: 60 s), so that they do not cut a listener that has nothing to hear.
 */
export const DEFAULT_SSE_KEEPALIVE_MS = 15_000

/**
 * The keep-alive: an SSE comment line (HTML Living Standard §9.2.6 "Interpreting an event
 * stream": a line starting with U+003A COLON is ignored by the client). Not an event: no id, not
 * kept for replay.
 */
export const KEEPALIVE_FRAME = ': keep-alive\n\n'

export class SseStream {
  private seq = 0
  private connection: ServerResponse | undefined
  ended = false
  /** The scopes of the token whose requests this stream answers (set when a policy applies); a resume needs them all. */
  heldScopes: readonly string[] | undefined

  constructor(
    readonly id: number,
    /** Undefined for a 2026-07-28 stream: no event ids, nothing kept (transports-streamable-http: "Resumable SSE streams via Last-Event-ID are not supported"). */
    private readonly replay: ReplayBuffer | undefined,
    /**
     * How much may wait unsent on the connection (a client that does not read). Beyond it the
     * connection is cut: the daemon's memory stays bounded, nobody else waits, and the client
     * can reconnect with Last-Event-ID to get what the replay buffer still holds.
     */
    private readonly maxUnsentBytes = DEFAULT_MAX_UNSENT_BYTES,
    /** Told when a connection was cut for not reading. */
    private readonly onCut?: (stream: number, unsentBytes: number) => void,
    /** Every this many ms a keep-alive comment goes on the attached connection (KEEPALIVE_FRAME); 0: none. */
    private readonly keepAliveMs = 0,
  ) {}

  /** The keep-alive timer of the attached connection; cleared when the connection closes or the stream ends. */
  private heartbeat: ReturnType<typeof setInterval> | undefined

  get attached(): boolean {
    return this.connection !== undefined
  }

  /** Makes `res` this stream's connection, sending the SSE headers if not sent yet. */
  attach(res: ServerResponse, extraHeaders?: Record<string, string>): void {
    if (!res.headersSent) res.writeHead(200, extraHeaders ? {...SSE_HEADERS, ...extraHeaders} : SSE_HEADERS)
    res.flushHeaders()
    this.connection = res
    this.stopHeartbeat()
    // A connection that is already gone will not close again: no timer for it.
    if (this.keepAliveMs > 0 && !this.ended && !res.destroyed && !res.writableEnded) {
      // Not unref'd: it lives exactly as long as its connection (cleared on close, on end() and
      // when the connection is cut), so a leak would show (a daemon that does not exit).
      this.heartbeat = setInterval(() => this.beat(res), this.keepAliveMs)
    }
    res.once('close', () => {
      if (this.connection !== res) return
      this.connection = undefined
      this.stopHeartbeat()
    })
  }

  /** One keep-alive comment, unless the connection has moved on or still holds unsent bytes (then it is not idle). */
  private beat(res: ServerResponse): void {
    if (this.connection !== res || res.writableLength > 0) return
    res.write(KEEPALIVE_FRAME)
  }

  private stopHeartbeat(): void {
    if (this.heartbeat === undefined) return
    clearInterval(this.heartbeat)
    this.heartbeat = undefined
  }

  replayAfter(seq: number): void {
    const res = this.connection
    if (!res || !this.replay) return
    for (const frame of this.replay.after(this.id, seq)) res.write(frame)
  }

  /** Sends one JSON-RPC message (already serialized) as an event. */
  send(json: string): void {
    if (this.ended) return
    let frame: string
    if (this.replay) {
      const seq = ++this.seq
      frame = `id: ${this.id}-${seq}\ndata: ${json}\n\n`
      this.replay.add({stream: this.id, seq, frame})
    } else frame = `data: ${json}\n\n`
    const res = this.connection
    if (!res) return
    res.write(frame)
    if (res.writableLength > this.maxUnsentBytes) {
      this.connection = undefined
      this.stopHeartbeat()
      this.onCut?.(this.id, res.writableLength)
      res.destroy()
    }
  }

  /** Ends the stream (and its connection, if one is attached). */
  end(): void {
    this.ended = true
    this.stopHeartbeat()
    const res = this.connection
    this.connection = undefined
    res?.end()
  }
}
