import type {IncomingMessage, ServerResponse} from 'node:http'

/** Per-request facts a handler may read or add to (the access log prints `clientId`). */
export interface RequestContext {
  readonly url: URL
  readonly remoteAddress: string
  clientId?: string
}

export type Handler = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext) => Promise<void> | void

/**
 * CORS class of a route:
 * - `public`: any origin may call it, without credentials (metadata, JWKS, token, registration:
 *   browser-based clients such as MCP Inspector fetch these cross-origin).
 * - `restricted`: only allowed origins (the MCP endpoint; MCP transports, Security Warning).
 * - `none`: same-origin only (the consent pages).
 */
export type CorsClass = 'public' | 'restricted' | 'none'

export interface Route {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT'
  path: string
  handler: Handler
  cors: CorsClass
  /** Methods and headers a browser may use (preflight), beyond the route's own method. */
  allowHeaders?: string[]
  exposeHeaders?: string[]
}

/** Exact-path routing: a Map lookup per request, nothing compiled per request. */
export function createRouter(routes: Route[]) {
  const table = new Map<string, Map<string, Route>>()
  for (const r of routes) {
    let byMethod = table.get(r.path)
    if (!byMethod) table.set(r.path, (byMethod = new Map()))
    if (byMethod.has(r.method)) throw new Error(`duplicate route ${r.method} ${r.path}`)
    byMethod.set(r.method, r)
  }
  return {
    /** The routes at a path (by method), or undefined when nothing lives there. */
    match(path: string): Map<string, Route> | undefined {
      return table.get(path)
    },
  }
}

export type Router = ReturnType<typeof createRouter>
