import {InvalidTarget} from './errors.js'

/**
 * RFC 8707 resource indicators: the resources this server serves are its MCP endpoint under each
 * name it is reached by (config/issuer.ts issuerViews; the first is the default). An absent
 * `resource` means the default; one of them, compared as parsed URLs (scheme and host case-blind,
 * RFC 3986 §6.2.2.1; a trailing slash tolerated, as clients differ on it; MCP authorization:
 * canonical server URI), is returned in its served spelling and becomes the token's `aud`;
 * anything else is `invalid_target`.
 */
export function createResourceResolver(resources: string | readonly string[]) {
  const served = (typeof resources === 'string' ? [resources] : [...resources]).map((r) => r.replace(/\/+$/, ''))
  const key = (url: URL) => `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}${url.search}`
  const byKey = new Map(served.map((r) => [key(new URL(r)), r]))
  return (requested: string | undefined): string => {
    if (requested === undefined) return served[0]!
    let url: URL
    try {
      url = new URL(requested)
    } catch {
      throw new InvalidTarget('resource must be an absolute URI')
    }
    if (url.hash || requested.includes('#')) throw new InvalidTarget('resource must not have a fragment (RFC 8707 §2)')
    const match = byKey.get(key(url))
    if (match === undefined) throw new InvalidTarget(`this server serves only the resource ${served[0]}`)
    return match
  }
}

export type ResourceResolver = ReturnType<typeof createResourceResolver>
