import {GatehouseError} from '../errors.js'
import {isLoopbackAddress} from '../http/guards.js'

/**
 * The issuer: the server's public base URL (RFC 8414 §2), from which every published URL
 * derives. Default `http(s)://HOST:PORT`; with a wildcard bind address, the loopback name.
 * It must be https unless it names a loopback host (OAuth 2.1 §1.5; MCP authorization:
 * "All authorization server endpoints MUST be served over HTTPS"), and carries no query or
 * fragment (RFC 8414 §2).
 */
export function resolveIssuer({issuer, host, port, tls}: {issuer?: string | undefined; host: string; port: number; tls: boolean}): URL {
  if (issuer === undefined || issuer === '') {
    const name = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
    return new URL(`${tls ? 'https' : 'http'}://${name}:${port}`)
  }
  let url: URL
  try {
    url = new URL(issuer)
  } catch {
    throw new GatehouseError('CONFIG', `--issuer ${JSON.stringify(issuer)} is not an absolute URL`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new GatehouseError('CONFIG', '--issuer must be an http(s) URL')
  if (url.search || url.hash || issuer.includes('#') || issuer.includes('?')) {
    throw new GatehouseError('CONFIG', '--issuer must not have a query or fragment (RFC 8414 §2)')
  }
  if (url.username || url.password) throw new GatehouseError('CONFIG', '--issuer must not contain credentials')
  if (url.protocol === 'http:' && !isLoopbackAddress(url.hostname)) {
    throw new GatehouseError('CONFIG', `--issuer ${issuer} must use https: OAuth requires TLS except on loopback (use a tunnel or reverse proxy with TLS, or --tls-cert/--tls-key)`)
  }
  return url
}

/** The issuer as a string, byte-identical everywhere it is published (no trailing slash). */
export const issuerString = (url: URL) => url.href.replace(/\/+$/, '')
