import {RawPool, type RawConnection, type RawReply} from './raw-http.js'

export type Reply = RawReply

/** Keep-alive connections to one loopback server, one per load loop. */
export function pool(port: number, connections: number): RawPool {
  return new RawPool(port, connections)
}

export function post(c: RawConnection, path: string, headers: Record<string, string>, body: string): Promise<Reply> {
  return c.request('POST', path, headers, body)
}

export function get(c: RawConnection, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return c.request('GET', path, headers)
}

export function header(r: Reply, name: string): string | undefined {
  return r.headers[name]
}

/** Checks a token endpoint reply: 200, JSON with a JWT access_token and token_type Bearer. */
export function checkTokenReply(r: Reply): string {
  if (r.status !== 200) throw new Error(`token endpoint answered ${r.status}: ${r.text.slice(0, 200)}`)
  const j = JSON.parse(r.text) as {access_token?: unknown; token_type?: unknown}
  const t = j.access_token
  if (typeof t !== 'string' || !t.startsWith('eyJ') || t.split('.').length !== 3) {
    throw new Error(`no JWT access_token in ${r.text.slice(0, 200)}`)
  }
  if (typeof j.token_type !== 'string' || j.token_type.toLowerCase() !== 'bearer') {
    throw new Error(`token_type is ${String(j.token_type)}`)
  }
  return t
}

export function jwtHeader(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8'))
}

export function basicAuth(id: string, secret: string): string {
  return 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')
}
