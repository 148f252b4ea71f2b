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

/**
 * The names under which one daemon is reached, each with its own issuer string (RFC 8414 §3.3:
 * metadata names the issuer the client used; RFC 9728 §3.3: the resource is the one the client
 * asked). With an explicit --issuer, or a bind that is not loopback, there is one: the issuer.
 * Bound to a loopback address without --issuer, the address's own literal and `localhost`
 * (which the OS maps to loopback) both reach this listener, so both are served; `[::1]` is
 * served when bound to ::1, 127.0.0.1 when bound to it. A name that does not reach this listener
 * is never accepted (a token for it could have been meant for another process on that address).
 */
export interface IssuerViews {
  /** The issuer of record (the default), e.g. http://127.0.0.1:8080. */
  readonly canonical: string
  /** Every issuer string served, the canonical first. */
  readonly all: readonly string[]
  /** The issuer for a request's Host header: its own name when served, else the canonical. */
  forHost(host: string | undefined): string
}

export function issuerViews({issuerUrl, explicit, host}: {issuerUrl: URL; explicit: boolean; host: string}): IssuerViews {
  const canonical = issuerString(issuerUrl)
  const byHost = new Map<string, string>([[issuerUrl.host.toLowerCase(), canonical]])
  if (!explicit && isLoopbackAddress(host) && isLoopbackAddress(issuerUrl.hostname)) {
    const literal = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
    for (const name of new Set([literal.toLowerCase(), 'localhost'])) {
      const url = new URL(issuerUrl.href)
      url.hostname = name
      byHost.set(url.host.toLowerCase(), issuerString(url))
    }
  }
  const all = [...new Set(byHost.values())]
  return {
    canonical,
    all,
    forHost: (h) => (h === undefined ? canonical : (byHost.get(h.toLowerCase()) ?? canonical)),
  }
}
