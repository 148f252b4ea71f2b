/**
 * Which MCP protocol versions the gateway speaks over Streamable HTTP, and how it recognizes a
 * client of the stateless 2026-07-28 revision so that client can fall back.
 */
import type {IncomingMessage} from 'node:http'
import {ErrorCode, errorResponse, metaOf, type JsonRpcId, type JsonRpcMessage} from './json-rpc.js'

/** Newest first. */
export const SUPPORTED_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'] as const
export type ProtocolVersion = (typeof SUPPORTED_VERSIONS)[number]
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

/**
 * The UnsupportedProtocolVersionError body (2026-07-28 versioning §Protocol Version Negotiation),
 * sent with 400: a dual-era client recognizes it and retries with a version from `supported`
 * (transports-streamable-http §Backward Compatibility), i.e. falls back to initialize.
 */
export const unsupportedVersionBody = (id: JsonRpcId | null, requested: string | undefined): string =>
  errorResponse(id, ErrorCode.UnsupportedProtocolVersion, 'Unsupported protocol version', {
    supported: [...SUPPORTED_VERSIONS],
    requested: requested ?? null,
  })
