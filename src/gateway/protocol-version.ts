/**
 * Which MCP protocol versions the gateway speaks over Streamable HTTP, in two eras (2026-07-28
 * versioning §Terminology): legacy (2025-03-26 .. 2025-11-25: `initialize` and sessions) and
 * modern (2026-07-28: stateless, version per request). Both are served on one endpoint at once.
 */
import type {IncomingMessage} from 'node:http'
import {ErrorCode, errorResponse, metaOf, type JsonRpcId, type JsonRpcMessage} from './json-rpc.js'

/** Legacy (session) versions, newest first. */
export const SUPPORTED_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'] as const
export type ProtocolVersion = (typeof SUPPORTED_VERSIONS)[number]
/** Modern (stateless) versions, newest first: what `server/discover` advertises (it lists modern revisions only). */
export const MODERN_VERSIONS = ['2026-07-28'] as const
export type ModernVersion = (typeof MODERN_VERSIONS)[number]
export const isModern = (v: unknown): v is ModernVersion => typeof v === 'string' && (MODERN_VERSIONS as readonly string[]).includes(v)
/**
 * Every version served, both eras: the `supported` list of UnsupportedProtocolVersionError
 * (2026-07-28 versioning §Protocol Version Negotiation: a dual-era server names both).
 */
export const ALL_VERSIONS: readonly string[] = [...MODERN_VERSIONS, ...SUPPORTED_VERSIONS]
export const LATEST_VERSION: ProtocolVersion = '2025-11-25'
/**
 * MCP 2025-11-25 transports §Protocol Version Header: without the header and no other way to
 * know, "the server SHOULD assume protocol version 2025-03-26".
 */
export const DEFAULT_VERSION: ProtocolVersion = '2025-03-26'

export const isSupported = (v: unknown): v is ProtocolVersion =>
  typeof v === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(v)

/** The version the gateway answers an initialize with: the one asked for if supported, else the latest. */
export const negotiate = (requested: unknown): ProtocolVersion => (isSupported(requested) ? requested : LATEST_VERSION)

export const headerVersion = (req: IncomingMessage): string | undefined => {
  const v = req.headers['mcp-protocol-version']
  return Array.isArray(v) ? v[0] : v
}

/** The _meta key a 2026-07-28 (modern) request carries its version in (versioning §Protocol Version Negotiation). */
export const MODERN_VERSION_META = 'io.modelcontextprotocol/protocolVersion'

/**
 * A modern (2026-07-28 and later) request declares its version per request, in
 * `params._meta["io.modelcontextprotocol/protocolVersion"]` and the MCP-Protocol-Version header
 * (versioning §Protocol Version Negotiation; transports-streamable-http §Protocol Version
 * Header), and sends no initialize. Returns the version it asked for, or undefined for a legacy
 * request.
 */
export function modernVersion(message: JsonRpcMessage, header: string | undefined): string | undefined {
  const fromMeta = metaOf(message)?.[MODERN_VERSION_META]
  if (typeof fromMeta === 'string') return fromMeta
  if (header !== undefined && !isSupported(header) && message.method !== 'initialize') return header
  return undefined
}

/** True when the version of a request's header or _meta is not one the gateway serves in either era. */
export const isUnknownVersion = (v: string): boolean => !isSupported(v) && !isModern(v)

/**
 * The UnsupportedProtocolVersionError body (2026-07-28 versioning §Protocol Version Negotiation),
 * sent with 400: a dual-era client recognizes it and retries with a version from `supported`
 * (transports-streamable-http §Backward Compatibility), i.e. falls back to initialize.
 */
export const unsupportedVersionBody = (id: JsonRpcId | null, requested: string | undefined): string =>
  errorResponse(id, ErrorCode.UnsupportedProtocolVersion, 'Unsupported protocol version', {
    supported: [...ALL_VERSIONS],
    requested: requested ?? null,
  })
