import {connect, type Socket} from 'node:net'

/**
 * A lean HTTP/1.1 keep-alive client for the load generator: one request at a time per
 * connection, requests written with a single write, responses parsed by hand (Content-Length
 * and chunked bodies). It costs far less CPU per request than a general-purpose client, so the
 * load generator's core is not what limits a fast server. Loopback only.
 */
export interface RawReply {
  status: number
  /** Lower-cased header names; the last value wins. */
  headers: Record<string, string>
  text: string
}

const CRLFCRLF = Buffer.from('\r\n\r\n')

export class RawConnection {
  private socket: Socket | undefined
  private buf: Buffer = Buffer.alloc(0)
  private waiting: {resolve: (r: RawReply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout} | undefined
  // Parse state of the current response.
  private head: {status: number; headers: Record<string, string>; bodyStart: number} | undefined

  constructor(
    private readonly port: number,
    private readonly timeoutMs = 15000,
  ) {}

  private open(): Socket {
    const s = connect({port: this.port, host: '127.0.0.1', noDelay: true})
    s.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d])
      this.parse()
    })
    const fail = (err: Error) => {
      this.socket = undefined
      this.buf = Buffer.alloc(0)
      this.head = undefined
      const w = this.waiting
      this.waiting = undefined
      if (w) {
        clearTimeout(w.timer)
        w.reject(err)
      }
    }
    s.on('error', fail)
    s.on('close', () => fail(new Error('connection closed by server')))
    this.socket = s
    return s
  }

  request(method: string, path: string, headers: Record<string, string>, body = ''): Promise<RawReply> {
    if (this.waiting) return Promise.reject(new Error('RawConnection: one request at a time'))
    const s = this.socket ?? this.open()
    let head = `${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1:${this.port}\r\n`
    for (const k in headers) head += `${k}: ${headers[k]}\r\n`
    if (body || method === 'POST') head += `content-length: ${Buffer.byteLength(body)}\r\n`
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined
        this.close()
        reject(new Error(`${method} ${path}: no response within ${this.timeoutMs} ms`))
      }, this.timeoutMs)
      this.waiting = {resolve, reject, timer}
      s.write(head + '\r\n' + body)
    })
  }

  private parse(): void {
    if (!this.waiting) return
    if (!this.head) {
      const end = this.buf.indexOf(CRLFCRLF)
      if (end === -1) return
      const lines = this.buf.toString('latin1', 0, end).split('\r\n')
      const status = Number.parseInt(lines[0]!.slice(9, 12), 10)
      const headers: Record<string, string> = {}
      for (let i = 1; i < lines.length; i++) {
        const l = lines[i]!
        const c = l.indexOf(':')
        if (c > 0) headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim()
      }
      this.head = {status, headers, bodyStart: end + 4}
    }
    const {status, headers, bodyStart} = this.head
    const len = headers['content-length']
    let text: string
    let consumed: number
    if (len !== undefined) {
      const n = Number(len)
      if (this.buf.length < bodyStart + n) return
      text = this.buf.toString('utf8', bodyStart, bodyStart + n)
      consumed = bodyStart + n
    } else if (headers['transfer-encoding']?.includes('chunked')) {
      const parts: Buffer[] = []
      let at = bodyStart
      for (;;) {
        const eol = this.buf.indexOf('\r\n', at)
        if (eol === -1) return
        const size = Number.parseInt(this.buf.toString('latin1', at, eol), 16)
        if (!Number.isFinite(size)) throw new Error('bad chunk size')
        if (size === 0) {
          // No trailers expected: the last chunk is followed by one CRLF.
          if (this.buf.length < eol + 4) return
          consumed = eol + 4
          break
        }
        if (this.buf.length < eol + 2 + size + 2) return
        parts.push(this.buf.subarray(eol + 2, eol + 2 + size))
        at = eol + 2 + size + 2
      }
      text = Buffer.concat(parts).toString('utf8')
    } else if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
      text = ''
      consumed = bodyStart
    } else {
      // Body delimited by close: not expected from the servers measured here.
      return
    }
    this.buf = this.buf.subarray(consumed)
    this.head = undefined
    const w = this.waiting
    this.waiting = undefined
    clearTimeout(w.timer)
    if (headers.connection?.toLowerCase() === 'close') this.close()
    w.resolve({status, headers, text})
  }

  close(): void {
    this.socket?.destroy()
    this.socket = undefined
    this.buf = Buffer.alloc(0)
    this.head = undefined
  }
}

/** One connection per load loop: loop i always uses connection i. */
export class RawPool {
  private conns: RawConnection[]
  constructor(port: number, size: number) {
    this.conns = Array.from({length: size}, () => new RawConnection(port))
  }
  conn(i: number): RawConnection {
    return this.conns[i % this.conns.length]!
  }
  close(): void {
    for (const c of this.conns) c.close()
  }
}
