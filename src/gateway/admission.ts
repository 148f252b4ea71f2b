/**
 * Admission of new sessions and 2026 listeners and of a 2026 request's child, under the caps
 * (issue 11, item 13): `maxSessions` in all, a per-client share of them (a client's own setting,
 * else `maxSessionsPerClient`, else a quarter of the global cap), and `maxChildren` processes.
 * Over a client's own share the answer is 429 (RFC 6585 §4: that client sent too much; others are
 * not affected); over a cap of the whole gateway it is 503 (RFC 9110 §15.6.4: the server is
 * overloaded for now). Both carry Retry-After. Neither is 400, 404 or 405, on which clients fall
 * back to the old HTTP+SSE transport (MCP 2025-11-25 transports §Backwards Compatibility).
 */
import type {Logger} from '../log.js'
import type {Principal} from '../principal/principal.js'
import {DEFAULT_MAX_CHILDREN, type ChildPool, type Isolation} from './child-pool.js'
import {ErrorCode} from './json-rpc.js'
import type {EndpointDeps} from './mcp-endpoint.js'
import type {Multiplexer} from './multiplexer.js'
import {Refusal} from './refusal.js'
import type {SessionTable} from './sessions.js'

export interface CapLimits {
  maxSessions: number
  maxSessionsPerClient?: number
  maxChildren?: number
}

/** The session cap of one client: its own setting, else the gateway's, else the default share. */
export function perClientSessionCap(limits: CapLimits, isolation: Isolation, own: number | null | undefined): number {
  if (own !== null && own !== undefined) return own
  if (limits.maxSessionsPerClient !== undefined) return limits.maxSessionsPerClient
  const pool = isolation === 'session' ? Math.min(limits.maxSessions, limits.maxChildren ?? DEFAULT_MAX_CHILDREN) : limits.maxSessions
  return Math.max(1, Math.floor(pool / 4))
}

export interface AdmissionDeps {
  limits: CapLimits
  isolation: Isolation
  sessions: SessionTable
  children: ChildPool
  /** A client's own session cap (the store's per-client setting); null or absent: the gateway's. */
  sessionLimit?: (principal: Principal) => Promise<number | null> | number | null
  /** Open 2026 listeners' clients, counted against the session cap. */
  listenerClients: () => Iterable<string>
  /** True once the gateway is closing: nothing new is admitted. */
  closing: () => boolean
  logger: Logger
}

const retryAfter = (seconds: number) => ({'retry-after': String(seconds)})

/**
 * The admission steps of one gateway: `startSession` (EndpointDeps.startSession), `childFor`
 * (a 2026 request's ready child, or Refusal 503) and `canListen` (Refusal 429 over the cap).
 */
export function createAdmission(deps: AdmissionDeps) {
  const {limits, isolation, sessions, children, logger} = deps
  const maxChildren = limits.maxChildren ?? DEFAULT_MAX_CHILDREN
  const capOf = async (principal: Principal) => perClientSessionCap(limits, isolation, deps.sessionLimit ? await deps.sessionLimit(principal) : null)

  function claimChild(principal: Principal, modern: boolean) {
    if (deps.closing()) throw new Error('the gateway is closing')
    return children.claim(principal, modern)
  }

  /** Admission of a new session: the caps, then a child; see EndpointDeps.startSession. */
  const startSession: EndpointDeps['startSession'] = async (principal) => {
    const reservation = sessions.reserve(principal.clientId, await capOf(principal))
    if ('refused' in reservation) {
      if (reservation.refused === 'client') {
        logger.warn('session refused: the client has its share of sessions', {client_id: principal.clientId, limit: reservation.limit})
        return {ok: false, status: 429, message: `Too Many Requests: this client already has ${reservation.limit} sessions; end one (DELETE) or wait`, headers: retryAfter(5)}
      }
      logger.warn('session refused: the gateway has its most sessions', {client_id: principal.clientId, limit: reservation.limit})
      return {ok: false, status: 503, message: 'Service Unavailable: too many sessions; try again later', headers: retryAfter(5)}
    }
    let claimed: ReturnType<typeof claimChild>
    try {
      claimed = claimChild(principal, false)
    } catch (error) {
      reservation.release()
      throw error
    }
    if (claimed === undefined) {
      reservation.release()
      logger.warn('session refused: the gateway runs its most child processes', {client_id: principal.clientId, limit: maxChildren})
      return {ok: false, status: 503, message: 'Service Unavailable: too many MCP server processes; try again later', headers: retryAfter(5)}
    }
    const {mux, release} = claimed
    return {
      ok: true,
      mux,
      id: reservation.id,
      commit(session) {
        reservation.commit(session)
        release()
      },
      release() {
        reservation.release()
        release()
      },
    }
  }

  /** The (ready) child of a principal's 2026 requests; Refusal 503 when none may be started or it failed. */
  async function childFor(principal: Principal): Promise<Multiplexer> {
    const claimed = claimChild(principal, true)
    if (claimed === undefined) {
      logger.warn('request refused: the gateway runs its most child processes', {client_id: principal.clientId, limit: maxChildren})
      throw new Refusal(503, ErrorCode.InternalError, 'Service Unavailable: too many MCP server processes; try again later', retryAfter(5))
    }
    try {
      await claimed.mux.ready
    } catch (error) {
      throw new Refusal(503, ErrorCode.InternalError, `Service Unavailable: the MCP server is not available: ${(error as Error).message}`, retryAfter(5))
    } finally {
      claimed.release()
    }
    if (claimed.mux.dead) throw new Refusal(503, ErrorCode.InternalError, 'Service Unavailable: the MCP server exited', retryAfter(5))
    return claimed.mux
  }

  /** A listener is the 2026 counterpart of a session's GET stream: the client's session cap bounds them too (429). */
  async function canListen(principal: Principal): Promise<void> {
    const cap = await capOf(principal)
    let n = 0
    for (const clientId of deps.listenerClients()) if (clientId === principal.clientId) n++
    if (n >= cap) throw new Refusal(429, ErrorCode.InternalError, `Too Many Requests: this client already has ${cap} subscriptions/listen streams`, retryAfter(5))
  }

  return {startSession, childFor, canListen}
}
