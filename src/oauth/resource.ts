import {InvalidTarget} from './errors.js'

/**
 * RFC 8707 resource indicators: the one resource this server serves is its MCP endpoint. An
 * absent `resource` means that one; anything else is `invalid_target`. A trailing slash is
 * tolerated, as clients differ on it (MCP authorization: canonical server URI).
 */
export function createResourceResolver(resource: string) {
  const canonical = resource.replace(/\/+$/, '')
  return (requested: string | undefined): string => {
    if (requested === undefined) return canonical
    let url: URL
    try {
      url = new URL(requested)
    } catch {
      throw new InvalidTarget('resource must be an absolute URI')
    }
    if (url.hash) throw new InvalidTarget('resource must not have a fragment (RFC 8707 §2)')
    if (requested.replace(/\/+$/, '') !== canonical) throw new InvalidTarget(`this server serves only the resource ${canonical}`)
    return canonical
  }
}

export type ResourceResolver = ReturnType<typeof createResourceResolver>
