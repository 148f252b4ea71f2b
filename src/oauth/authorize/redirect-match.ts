import {redirectUriProblem} from '../../clients/redirect-uris.js'

/** http to a loopback host, split into host, optional port and the rest (path and query). */
const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::(\d{1,5}))?((?:[/?][^#]*)?)$/

function loopbackParts(uri: string): {host: string; port: number | undefined; rest: string} | undefined {
  const m = LOOPBACK.exec(uri)
  if (!m) return undefined
  const port = m[2] === undefined ? undefined : Number(m[2])
  if (port !== undefined && (port < 1 || port > 65535)) return undefined
  // An empty path and "/" name the same loopback resource.
  return {host: m[1]!, port, rest: m[3] === '' ? '/' : m[3]!}
}

/**
 * Whether a requested redirect URI is one the client registered: exact string comparison
 * (OAuth 2.1 §2.3.1, RFC 9700 §4.1.3, MCP security best practices: "exact string matching"),
 * with one exception: for http on a loopback host the port may differ (RFC 8252 §7.3: native
 * apps take an ephemeral port). Host, path and query still match exactly, so prefix, suffix,
 * case, userinfo and encoding tricks all fail. A URI that could not be registered never matches.
 */
export function redirectUriMatches(requested: string, registered: readonly string[]): boolean {
  if (redirectUriProblem(requested) !== null) return false
  if (registered.includes(requested)) return true
  const asked = loopbackParts(requested)
  if (!asked) return false
  return registered.some((r) => {
    const reg = loopbackParts(r)
    return reg !== undefined && reg.host === asked.host && reg.rest === asked.rest
  })
}
