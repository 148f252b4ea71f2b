/**
 * What a gateway is made from (gateway.ts createGateway): its options, and the limits every
 * part of it honours (sessions, children, bodies, streams, timeouts), each with its default.
 */
import type {RetryForwarder} from './retry-forward.js'
import type {IncomingMessage} from 'node:http'
import type {Clock} from '../clock.js'
import type {Logger} from '../log.js'
import type {Principal, TokenVerifier} from '../principal/principal.js'
import type {Isolation} from './child-pool.js'
import type {EndpointDeps} from './mcp-endpoint.js'
import type {ResourceView} from './resource-metadata.js'
import type {ScopeGuard} from './scope-guard.js'

export interface GatewayLimits {
  maxSessions: number
  sessionIdleTimeoutMs: number
  childIdleTimeoutMs: number
  maxLineBytes: number
  maxBodyBytes: number
  replayBufferEvents: number
  /** Bytes that may wait unsent on one SSE connection before it is cut (default 8 MiB). */
  maxUnsentBytes?: number
  /** How often (ms) an idle GET or subscriptions/listen stream gets an SSE keep-alive comment; default 15 s; 0: never. */
  sseKeepAliveMs?: number
  killGraceMs: number
  /** How long a request may wait for the child's answer; default 60 s. */
  requestTimeoutMs?: number
  /** How deep a client's JSON may nest; default MAX_JSON_DEPTH (128). */
  maxJsonDepth?: number
  /** How often idle sessions, idle children and overdue requests are swept; default 1 s. */
  sweepIntervalMs?: number
  /** Sessions one client may hold (a client's own setting wins); default maxSessions / 4 (and maxChildren / 4 in session isolation). */
  maxSessionsPerClient?: number
  /** Child processes at once (children being stopped aside); default 100. */
  maxChildren?: number
  /** How long a child may take to answer the gateway's initialize; default 30 s. */
  initializeTimeoutMs?: number
  /** How long a child may stay silent on the server/discover probe before it is spoken to in 2025 (child-era.ts); 0: no probe; default 2 s. */
  discoverTimeoutMs?: number
  /** How often open sessions are checked for revocation; default 250 ms. */
  revocationCheckMs?: number
  /** How long a 2026 request waiting for the client's input (multi round-trip) is kept; default 5 min. */
  inputRequiredTtlMs?: number
  /** 2026 requests one client may have waiting for input at once; default 16. */
  maxInputRequiredPerClient?: number
}

export const DEFAULT_REVOCATION_CHECK_MS = 250

export interface GatewayOptions {
  verifier: TokenVerifier
  /** This daemon's node id (src/daemon/node-id.ts): 2025 session ids name it. */
  nodeId?: string
  /** Absolute URL of the MCP endpoint (or one per name the daemon serves); tokens must carry one as audience. */
  resource: string | readonly string[]
  /** The resource as seen under the request's Host and path (RFC 9728 §3.3); default: the options above. */
  viewFor?: (req: IncomingMessage) => ResourceView
  /** Absolute URL of /.well-known/oauth-protected-resource/mcp. */
  resourceMetadataUrl: string
  authorizationServers: string[]
  /** For the resource metadata; a function when it changes (policy reloads). */
  scopesSupported: readonly string[] | (() => readonly string[])
  /** Tool-level scopes (a policy); absent: every valid token may use everything. */
  scopes?: ScopeGuard
  /** Opt-in per-client rate limit: seconds to wait, 0 to go ahead. */
  admit?: EndpointDeps['admit']
  /** A client's own session cap (the store's per-client setting); null or absent: the gateway's. */
  sessionLimit?: (principal: Principal) => Promise<number | null> | number | null
  /** Every MCP request, for the audit trail. */
  onRequest?: EndpointDeps['onRequest']
  /** The stdio MCP server to gate; undefined = the bundled @modelcontextprotocol/server-memory. */
  command: {command: string; args: string[]} | undefined
  dataDir: string
  isolation: Isolation
  /** --env KEY=VALUE pass-through for children. */
  env: Record<string, string>
  limits: GatewayLimits
  logger: Logger
  clock: Clock
  /** The daemon's environment, from which PATH, HOME, locale and TZ pass to children; default process.env. */
  parentEnv?: NodeJS.ProcessEnv
  /** The key that seals 2026 requestState values (32+ bytes); default 32 random bytes made at start. */
  requestStateKey?: Uint8Array
  /** Several nodes: forwards a multi round-trip retry to the node holding its request (retry-forward.ts). */
  forwardRetry?: RetryForwarder
}
