import {Pool} from 'undici'

/** A keep-alive connection pool to one loopback server (undici, no pipelining). */
export function pool(port: number, connections: number): Pool {
  return new Pool(`http://127.0.0.1:${port}`, {
    connections,
    pipelining: 1,
    headersTimeout: 15000,
    bodyTimeout: 15000,
    keepAliveTimeout: 60000,
  })
}

export interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

export async function post(p: Pool, path: string, headers: Record<string, string>, body: string): Promise<Reply> {
  const r = await p.request({path, method: 'POST', headers, body})
  const text = await r.body.text()
  return {status: r.statusCode, headers: r.headers, text}
}

export async function get(p: Pool, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  const r = await p.request({path, method: 'GET', headers})
  const text = await r.body.text()
  return {status: r.statusCode, headers: r.headers, text}
}

export function header(r: Reply, name: string): string | undefined {
  const v = r.headers[name]
  return Array.isArray(v) ? v[0] : v
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
