import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Logger} from '../log.js'
import {setBodyContext} from './body.js'
import {BodyBudget} from './body-budget.js'
import {HttpError, badRequest} from './errors.js'
import type {createHostGuard, OriginPolicy} from './guards.js'
import {corsHeaders, securityHeaders, sendPreflight} from './headers.js'
import {sendError} from './respond.js'
import type {HttpLimits} from './listen.js'
import type {RequestContext, Router} from './router.js'

export interface AppOptions {
  router: Router
  logger: Logger
  hostGuard: ReturnType<typeof createHostGuard>
  origins: OriginPolicy
  tls: boolean
  /** The issuer's path ("" for a bare origin); stripped from request paths (reverse proxies). */
  issuerPath: string
  /** Bytes of bodies held at once and how refused bodies are drained (src/http/listen.ts). */
  bodies: Pick<HttpLimits, 'maxBodyBytesInFlight' | 'maxBodyBytesInFlightPerClient' | 'drainBytes' | 'drainMs'>
}

/**
 * The request pipeline shared by every endpoint: Host guard, routing (404/405/preflight),
 * Origin check, security and CORS headers, the handler, one error mapping, one log line.
 */
export function createApp({router, logger, hostGuard, origins, tls, issuerPath, bodies}: AppOptions) {
  const baseHeaders = securityHeaders(tls)
  const baseEntries = Object.entries(baseHeaders)
  const budget = new BodyBudget({totalBytes: bodies.maxBodyBytesInFlight, perClientBytes: bodies.maxBodyBytesInFlightPerClient})

  return async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now()
    const target = req.url ?? '/'
    const ctx = new Context(target, req.socket.remoteAddress ?? '')
    // Body bytes are held under the client's name once the bearer check has set it, else the address's.
    const lease = budget.lease(() => (ctx.clientId !== undefined ? `client:${ctx.clientId}` : `addr:${ctx.remoteAddress}`))
    setBodyContext(req, {lease, drainBytes: bodies.drainBytes, drainMs: bodies.drainMs})
    // Held until the answer is done: an MCP request's bytes live on in the child's stdin queue
    // until the child has read them, and a slow child would otherwise let them pile up.
    res.once('close', () => lease.release())
    res.once('finish', () => {
      logger.info('request', {
        method: req.method,
        path: ctx.path || '-',
        status: res.statusCode,
        ms: Math.round((performance.now() - started) * 10) / 10,
        client_id: ctx.clientId,
        remote: ctx.remoteAddress,
      })
    })
    try {
      for (const [k, v] of baseEntries) res.setHeader(k, v)
      hostGuard(req)
      // The path without building a URL (most handlers never read the query); origin-form only,
      // an absolute-form target is reduced to its path by the URL parser below.
      const q = target.indexOf('?')
      const rawPath = q < 0 ? target : target.slice(0, q)
      const simple = rawPath.startsWith('/') && !/[%\\]|\/\.{1,2}(\/|$)|\/\//.test(rawPath)
      const pathname = simple ? rawPath : ctx.url.pathname
      const path = normalizePath(pathname, issuerPath)
      ctx.path = path
      const routes = router.match(path)
      if (!routes) throw new HttpError(404, {error: 'not_found', error_description: `nothing at ${path}`})
      if (req.method === 'OPTIONS') return sendPreflight(req, res, routes, origins, baseHeaders)
      const route = routes.get(req.method === 'HEAD' ? 'GET' : (req.method ?? ''))
      if (!route) {
        throw new HttpError(405, {error: 'method_not_allowed', error_description: `${req.method} is not allowed here`}, {
          Allow: [...routes.keys(), 'OPTIONS'].join(', '),
        })
      }
      if (route.cors !== 'public') origins.check(req)
      for (const [k, v] of Object.entries(corsHeaders(route.cors, req.headers.origin, origins))) res.setHeader(k, v)
      await route.handler(req, res, ctx)
    } catch (error) {
      sendError(res, error, logger)
    }
  }
}

/**
 * Strips the issuer's path, so that behind a proxy that keeps the prefix the same routes apply;
 * also undoes RFC 8414 §3.1 / RFC 9728 §3.1 path insertion in well-known URIs
 * (/.well-known/oauth-authorization-server/<issuer path>).
 */
export function normalizePath(pathname: string, issuerPath: string): string {
  if (!issuerPath) return pathname
  if (pathname.startsWith(issuerPath + '/')) return pathname.slice(issuerPath.length)
  if (pathname.startsWith('/.well-known/')) {
    const i = pathname.indexOf('/', '/.well-known/'.length)
    if (i > 0 && pathname.startsWith(issuerPath, i) && (pathname.length === i + issuerPath.length || pathname[i + issuerPath.length] === '/')) {
      return pathname.slice(0, i) + pathname.slice(i + issuerPath.length)
    }
  }
  return pathname
}

/** Per-request context; the URL (with its query) is parsed only when a handler asks for it. */
class Context implements RequestContext {
  path = ''
  clientId?: string
  private parsed: URL | undefined
  constructor(
    private readonly target: string,
    readonly remoteAddress: string,
  ) {}
  get url(): URL {
    if (!this.parsed) {
      try {
        this.parsed = new URL(this.target, 'http://gatehouse.invalid')
      } catch {
        throw badRequest('malformed request target')
      }
    }
    return this.parsed
  }
}

