import type {IncomingMessage, ServerResponse} from 'node:http'
import type {CorsClass, Route} from './router.js'
import type {OriginPolicy} from './guards.js'

/** Headers every response carries; pages that render HTML set a fuller CSP of their own. */
export function securityHeaders(tls: boolean): Record<string, string> {
  return {
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
    ...(tls ? {'Strict-Transport-Security': 'max-age=31536000'} : {}),
  }
}

// Mcp-Method and Mcp-Name: MCP 2026-07-28 transports-streamable-http §Standard Request Headers.
const DEFAULT_ALLOW_HEADERS = ['Authorization', 'Content-Type', 'Accept', 'MCP-Protocol-Version', 'Mcp-Session-Id', 'Last-Event-ID', 'Mcp-Method', 'Mcp-Name']
/** `Mcp-Param-{Name}` (2026-07-28 §Custom Headers from Tool Parameters): Name is an RFC 9110 token. */
const MCP_PARAM_HEADER = /^mcp-param-[!#$%&'*+.^_`|~0-9a-z-]+$/i

/** The Mcp-Param-* names a preflight asks for (their names vary per tool, so they are echoed, not listed). */
function requestedParamHeaders(req: IncomingMessage): string[] {
  const asked = req.headers['access-control-request-headers']
  if (typeof asked !== 'string') return []
  return asked.split(',').map((h) => h.trim()).filter((h) => h.length <= 128 && MCP_PARAM_HEADER.test(h)).slice(0, 64)
}
const DEFAULT_EXPOSE_HEADERS = ['WWW-Authenticate', 'Mcp-Session-Id', 'MCP-Protocol-Version', 'Retry-After']

/** CORS response headers for a route's class; none when the origin may not read the response. */
export function corsHeaders(cls: CorsClass, origin: string | undefined, origins: OriginPolicy): Record<string, string> {
  if (origin === undefined || cls === 'none') return {}
  if (cls === 'public') return {'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': DEFAULT_EXPOSE_HEADERS.join(', ')}
  if (!origins.isAllowed(origin)) return {}
  return {
    'Access-Control-Allow-Origin': origin,
    Vary: 'Origin',
    'Access-Control-Expose-Headers': DEFAULT_EXPOSE_HEADERS.join(', '),
  }
}

/** Answers a CORS preflight for the routes at a path. */
export function sendPreflight(
  req: IncomingMessage,
  res: ServerResponse,
  routes: Map<string, Route>,
  origins: OriginPolicy,
  base: Record<string, string>,
): void {
  const first = [...routes.values()][0]!
  const cors = corsHeaders(first.cors, req.headers.origin, origins)
  if (!cors['Access-Control-Allow-Origin']) {
    res.writeHead(403, base).end()
    return
  }
  const headers = new Set(DEFAULT_ALLOW_HEADERS)
  for (const r of routes.values()) for (const h of r.allowHeaders ?? []) headers.add(h)
  if (routes.has('POST')) for (const h of requestedParamHeaders(req)) headers.add(h)
  res.writeHead(204, {
    ...base,
    ...cors,
    'Access-Control-Allow-Methods': [...routes.keys(), 'OPTIONS'].join(', '),
    'Access-Control-Allow-Headers': [...headers].join(', '),
    'Access-Control-Max-Age': '600',
  })
  res.end()
}
