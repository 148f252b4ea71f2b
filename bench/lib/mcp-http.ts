import type {RawPool} from './raw-http.js'
import {post, header, type Reply} from './http.js'
import {ECHO_CHILD, type ChildSpec} from './children.js'

export const PROTOCOL_VERSION = '2025-06-18'

/**
 * The MCP Streamable HTTP client side, done by hand so it costs little: initialize (capturing
 * Mcp-Session-Id), notifications/initialized, tools/list, tools/call. Replies may be JSON or
 * SSE (text/event-stream); both are parsed and every result is checked.
 */
export class McpHttpSession {
  sessionId: string | undefined
  private nextId = 1
  private baseHeaders: Record<string, string>

  constructor(
    private readonly pool: RawPool,
    private readonly path: string,
    bearer?: string,
    /** The stdio server behind the gateway: how its echo tool is called and checked. */
    private readonly child: ChildSpec = ECHO_CHILD,
  ) {
    this.baseHeaders = {
      accept: 'application/json, text/event-stream',
      'content-type': 'application/json',
    }
    if (bearer) this.baseHeaders.authorization = `Bearer ${bearer}`
  }

  private headers(): Record<string, string> {
    if (!this.sessionId) return this.baseHeaders
    return {...this.baseHeaders, 'mcp-session-id': this.sessionId, 'mcp-protocol-version': PROTOCOL_VERSION}
  }

  /** One request on the connection of load loop `loop`. */
  async request(method: string, params: unknown, loop = 0): Promise<any> {
    const id = this.nextId++
    const r = await post(this.pool.conn(loop), this.path, this.headers(), JSON.stringify({jsonrpc: '2.0', id, method, params}))
    if (r.status !== 200) throw new Error(`${method}: HTTP ${r.status} ${r.text.slice(0, 200)}`)
    const msg = findResponse(r, id)
    if (msg.error) throw new Error(`${method}: JSON-RPC error ${JSON.stringify(msg.error)}`)
    return {result: msg.result, reply: r}
  }

  async initialize(): Promise<void> {
    const {result, reply} = await this.request('initialize', {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: {name: 'gatehouse-bench', version: '1.0.0'},
    })
    if (!result?.protocolVersion) throw new Error(`initialize: no protocolVersion in ${reply.text.slice(0, 200)}`)
    const sid = header(reply, 'mcp-session-id')
    if (!sid) throw new Error('initialize: no Mcp-Session-Id header')
    this.sessionId = sid
    const n = await post(
      this.pool.conn(0),
      this.path,
      this.headers(),
      JSON.stringify({jsonrpc: '2.0', method: 'notifications/initialized'}),
    )
    if (n.status !== 202 && n.status !== 200 && n.status !== 204) {
      throw new Error(`notifications/initialized: HTTP ${n.status} ${n.text.slice(0, 200)}`)
    }
  }

  async listTools(): Promise<string[]> {
    const {result} = await this.request('tools/list', {})
    const names = (result?.tools ?? []).map((t: {name: string}) => t.name)
    if (!names.includes('echo')) throw new Error(`tools/list: no echo tool in ${JSON.stringify(names)}`)
    return names
  }

  /** Calls echo and checks the echoed text. */
  async echo(text: string, loop = 0): Promise<void> {
    const {result} = await this.request('tools/call', {name: 'echo', arguments: this.child.args(text)}, loop)
    const got = result?.content?.[0]?.text
    const want = this.child.expected(text)
    if (got !== want) throw new Error(`tools/call echo: expected ${JSON.stringify(want)}, got ${JSON.stringify(result)}`)
  }

  async close(): Promise<void> {
    if (!this.sessionId) return
    try {
      await this.pool.conn(0).request('DELETE', this.path, this.headers())
    } catch {
      /* best effort */
    }
  }
}

function findResponse(r: Reply, id: number): any {
  const ct = header(r, 'content-type') ?? ''
  if (ct.includes('text/event-stream')) {
    for (const data of sseData(r.text)) {
      const m = JSON.parse(data)
      const list = Array.isArray(m) ? m : [m]
      for (const x of list) if (x.id === id && (x.result !== undefined || x.error !== undefined)) return x
    }
    throw new Error(`no response to id ${id} in SSE stream: ${r.text.slice(0, 200)}`)
  }
  const m = JSON.parse(r.text)
  const list = Array.isArray(m) ? m : [m]
  for (const x of list) if (x.id === id) return x
  throw new Error(`no response to id ${id} in ${r.text.slice(0, 200)}`)
}

/** The data payloads of an SSE body (multi-line data joined with \n). */
export function sseData(body: string): string[] {
  const out: string[] = []
  for (const event of body.split(/\r?\n\r?\n/)) {
    let data: string[] | undefined
    for (const line of event.split(/\r?\n/)) {
      if (line.startsWith('data:')) (data ??= []).push(line.slice(line[5] === ' ' ? 6 : 5))
    }
    if (data) out.push(data.join('\n'))
  }
  return out
}
