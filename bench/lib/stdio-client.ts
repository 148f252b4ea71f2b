import {start, type Started} from './proc.js'
import {ECHO_CHILD, type ChildSpec} from './children.js'

/**
 * Direct stdio to the echo server: the floor under every gateway. NDJSON JSON-RPC with
 * in-flight requests matched by id.
 */
export class StdioMcp {
  private nextId = 1
  private waiting = new Map<number, {resolve: (m: any) => void; reject: (e: Error) => void}>()
  private pending = ''
  readonly proc: Started

  constructor(
    command: string,
    args: string[],
    /** How the child's echo tool is called and checked. */
    private readonly child: ChildSpec = ECHO_CHILD,
  ) {
    this.proc = start(command, args, {stdinPipe: true})
    this.proc.child.stdout!.setEncoding('utf8')
    this.proc.child.stdout!.on('data', (chunk: string) => this.onData(chunk))
    this.proc.child.on('exit', () => {
      for (const w of this.waiting.values()) w.reject(new Error('stdio server exited'))
      this.waiting.clear()
    })
  }

  private onData(chunk: string) {
    this.pending += chunk
    let start = 0
    let nl
    while ((nl = this.pending.indexOf('\n', start)) !== -1) {
      const line = this.pending.slice(start, nl)
      start = nl + 1
      if (!line) continue
      const m = JSON.parse(line)
      const w = this.waiting.get(m.id)
      if (w) {
        this.waiting.delete(m.id)
        w.resolve(m)
      }
    }
    this.pending = this.pending.slice(start)
  }

  request(method: string, params: unknown): Promise<any> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.waiting.set(id, {
        resolve: (m) => (m.error ? reject(new Error(JSON.stringify(m.error))) : resolve(m.result)),
        reject,
      })
      this.proc.child.stdin!.write(JSON.stringify({jsonrpc: '2.0', id, method, params}) + '\n')
    })
  }

  notify(method: string): void {
    this.proc.child.stdin!.write(JSON.stringify({jsonrpc: '2.0', method}) + '\n')
  }

  async initialize(): Promise<void> {
    const r = await this.request('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: {name: 'gatehouse-bench', version: '1.0.0'},
    })
    if (!r?.protocolVersion) throw new Error('initialize: no protocolVersion')
    this.notify('notifications/initialized')
  }

  async listTools(): Promise<void> {
    const r = await this.request('tools/list', {})
    if (!r?.tools?.some((t: {name: string}) => t.name === 'echo')) throw new Error('no echo tool')
  }

  async echo(text: string): Promise<void> {
    const r = await this.request('tools/call', {name: 'echo', arguments: this.child.args(text)})
    const want = this.child.expected(text)
    if (r?.content?.[0]?.text !== want) throw new Error(`echo: expected ${want}, got ${JSON.stringify(r)}`)
  }

  stop(): Promise<void> {
    this.proc.child.stdin!.end()
    return this.proc.stop()
  }
}
