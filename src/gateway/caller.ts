/**
 * Who a request to a child comes from: a `Caller`. A 2025 session (session.ts) is one for its
 * whole life; a 2026-07-28 request (modern/modern-call.ts) is one for the length of one POST.
 * The child supervisor (multiplexer.ts) speaks to callers only through this interface, so the
 * same id rewriting, routing and policy serve both protocol eras.
 *
 * MCP 2025-11-25 lifecycle: a session's version and capabilities are negotiated once by
 * `initialize`. MCP 2026-07-28 basic-index §_meta: each request carries its own version
 * (`io.modelcontextprotocol/protocolVersion`), capabilities (`.../clientCapabilities`) and log
 * level (`.../logLevel`).
 */
import type {Principal} from '../principal/principal.js'
import type {Pending} from './id-map.js'

/** legacy: 2025-03-26 .. 2025-11-25, sessions and `initialize`; modern: 2026-07-28, stateless. */
export type Era = 'legacy' | 'modern'

/** The client capabilities the gateway relays server-to-client requests for. */
export interface ClientCapabilities {
  sampling: boolean
  elicitation: boolean
  roots: boolean
}

/** MCP server/utilities/logging: syslog severities, least severe first. */
export const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const
export const logLevelRank = (level: unknown): number => LOG_LEVELS.indexOf(level as (typeof LOG_LEVELS)[number])

/** The capabilities a client declared, from its ClientCapabilities object (either era's shape). */
export function declaredCapabilities(caps: unknown): ClientCapabilities {
  const c = typeof caps === 'object' && caps !== null && !Array.isArray(caps) ? (caps as Record<string, unknown>) : {}
  return {sampling: c.sampling !== undefined, elicitation: c.elicitation !== undefined, roots: c.roots !== undefined}
}

export interface Caller {
  readonly era: Era
  readonly protocolVersion: string
  /** The OAuth client behind it (sessions and requests are bound to it). */
  readonly clientId: string
  readonly capabilities: ClientCapabilities
  /** Rank (LOG_LEVELS) of the least severe notifications/message it wants; Infinity: none. */
  logLevel: number
  /** Requests it has in flight on a child, by its JSON-encoded id. */
  readonly inflight: Map<string, Pending>
  readonly closed: boolean
  /** Short name for logs (never a secret: a session id prefix, or "request"). */
  readonly tag: string
  /**
   * A message from the child related to none of its requests. A session sends it on its GET
   * stream; a 2026 request has no such stream (2026-07-28 transports-streamable-http §Receiving
   * Messages: change notifications go to `subscriptions/listen` streams only), so it drops it.
   */
  sendUnrelated(json: string): void
}

/** The principal a caller acts for now (for a session: the latest token it was used with). */
export type CallerPrincipal = Principal
