import {createHash, randomBytes} from 'node:crypto'

export function pkce() {
  const verifier = randomBytes(32).toString('base64url')
  return {verifier, challenge: createHash('sha256').update(verifier).digest('base64url')}
}

export async function register(issuer: string, meta: Record<string, unknown>) {
  const res = await fetch(`${issuer}/oauth/register`, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(meta)})
  return {status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown>}
}

/** GET /oauth/authorize without following redirects. */
export async function authorize(issuer: string, params: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(`${issuer}/oauth/authorize?${new URLSearchParams(params)}`, {redirect: 'manual', headers})
  const location = res.headers.get('location')
  return {status: res.status, headers: res.headers, location: location ? new URL(location) : undefined, text: await res.text()}
}

export async function token(issuer: string, params: Record<string, string>) {
  const res = await fetch(`${issuer}/oauth/token`, {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: new URLSearchParams(params)})
  return {status: res.status, headers: res.headers, body: (await res.json()) as Record<string, string>}
}

/** A code for an auto-approving server. */
export async function codeFor(issuer: string, clientId: string, redirectUri: string, extra: Record<string, string> = {}) {
  const p = pkce()
  const r = await authorize(issuer, {response_type: 'code', client_id: clientId, redirect_uri: redirectUri, code_challenge: p.challenge, code_challenge_method: 'S256', state: 's1', ...extra})
  if (r.status !== 302 || !r.location?.searchParams.get('code')) throw new Error(`no code: ${r.status} ${r.location} ${r.text.slice(0, 300)}`)
  return {code: r.location.searchParams.get('code')!, verifier: p.verifier}
}
