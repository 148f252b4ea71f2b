import type {IncomingMessage} from 'node:http'
import {isIP} from 'node:net'
import {HttpError} from './errors.js'

/**
 * DNS-rebinding protection (MCP transports: "Servers MUST validate the Origin header";
 * MCP security best practices: local servers). Two checks:
 * - Host: when bound to loopback, only loopback names and the issuer's own host are served, so
 *   a page on evil.example whose name was rebound to 127.0.0.1 is refused.
 * - Origin: where present on a restricted route, it must be the issuer's origin or one the owner
 *   allowed with --allowed-origin; anything else is 403.
 */
export function createHostGuard({boundToLoopback, port, issuer}: {boundToLoopback: boolean; port: number; issuer: URL}) {
  const allowed = new Set([issuer.host.toLowerCase()])
  for (const name of ['127.0.0.1', 'localhost', '[::1]']) {
    allowed.add(`${name}:${port}`)
    if ((issuer.protocol === 'http:' && port === 80) || (issuer.protocol === 'https:' && port === 443)) allowed.add(name)
  }
  return (req: IncomingMessage): void => {
    // RFC 9112 §3.2: more than one Host field line is a 400 (Node keeps only the first).
    let hosts = 0
    const raw = req.rawHeaders
    for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') hosts++
    if (hosts > 1) throw new HttpError(400, {error: 'invalid_request', error_description: 'more than one Host header'})
    if (!boundToLoopback) return
    const host = (req.headers.host ?? '').toLowerCase()
    if (!allowed.has(host)) {
      throw new HttpError(403, {error: 'forbidden', error_description: `Host ${JSON.stringify(host)} is not served here`})
    }
  }
}

export function createOriginPolicy({issuer, allowedOrigins}: {issuer: URL; allowedOrigins: string[]}) {
  const allowed = new Set([issuer.origin, ...allowedOrigins.map((o) => new URL(o).origin)])
  return {
    isAllowed: (origin: string) => allowed.has(origin),
    /** Throws 403 when a present Origin is not allowed. */
    check(req: IncomingMessage): void {
      const origin = req.headers.origin
      if (origin !== undefined && !allowed.has(origin)) {
        throw new HttpError(403, {error: 'forbidden', error_description: `Origin ${JSON.stringify(origin)} is not allowed`})
      }
    },
  }
}

export type OriginPolicy = ReturnType<typeof createOriginPolicy>

export function isLoopbackAddress(host: string): boolean {
  if (host === 'localhost') return true
  const h = host.replace(/^\[|\]$/g, '')
  if (isIP(h) === 4) return h.startsWith('127.')
  if (isIP(h) === 6) return h === '::1'
  return false
}
