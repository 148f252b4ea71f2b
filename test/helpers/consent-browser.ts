import {request} from 'node:http'
import {pkce} from './interactive.js'

/** One HTTP exchange over node:http (so the source address can be chosen), without following redirects. */
export function httpExchange(
  url: string,
  {method = 'GET', headers = {}, body, localAddress}: {method?: string; headers?: Record<string, string>; body?: string; localAddress?: string} = {},
): Promise<{status: number; headers: Record<string, string | string[] | undefined>; text: string}> {
  return new Promise((resolve, reject) => {
    const req = request(url, {method, headers: {...headers, ...(body !== undefined ? {'Content-Length': String(Buffer.byteLength(body))} : {})}, localAddress, agent: false}, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (d: string) => (text += d))
      res.on('end', () => resolve({status: res.statusCode!, headers: res.headers, text}))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

/**
 * A cookie-keeping browser stand-in for the consent page: starts an authorization request for a
 * client, and posts the owner's decision (with the page's CSRF token and request id). Its
 * requests come from `localAddress` (any 127.x.y.z on Linux), so tests can play several addresses.
 */
export function consentBrowser(issuer: string, {localAddress = '127.0.0.1'}: {localAddress?: string} = {}) {
  const jar = new Map<string, string>()
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
  const keep = (headers: Record<string, string | string[] | undefined>) => {
    const set = headers['set-cookie']
    for (const c of Array.isArray(set) ? set : set ? [set] : []) {
      const [pair] = c.split(';')
      const eq = pair!.indexOf('=')
      jar.set(pair!.slice(0, eq), pair!.slice(eq + 1))
    }
  }
  return {
    jar,
    /** Drops the session cookie (a fresh session) but keeps any other (the device token). */
    newSession() {
      for (const k of [...jar.keys()]) if (k.endsWith('gatehouse-session')) jar.delete(k)
    },
    async open(params: Record<string, string>) {
      const {challenge} = pkce()
      const query = new URLSearchParams({response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256', state: 'st', ...params})
      const res = await httpExchange(`${issuer}/oauth/authorize?${query}`, {headers: jar.size ? {Cookie: cookieHeader()} : {}, localAddress})
      keep(res.headers)
      const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(res.text)?.[1]
      return {...res, requestId: field('request_id'), csrf: field('csrf_token'), location: typeof res.headers.location === 'string' ? new URL(res.headers.location) : undefined}
    },
    async decide(page: {requestId?: string | undefined; csrf?: string | undefined}, fields: Record<string, string>) {
      const res = await httpExchange(`${issuer}/oauth/authorize`, {
        method: 'POST',
        headers: {'Content-Type': 'application/x-www-form-urlencoded', Origin: new URL(issuer).origin, Cookie: cookieHeader()},
        body: new URLSearchParams({request_id: page.requestId ?? '', csrf_token: page.csrf ?? '', ...fields}).toString(),
        localAddress,
      })
      keep(res.headers)
      return {...res, location: typeof res.headers.location === 'string' ? new URL(res.headers.location) : undefined}
    },
  }
}
