/**
 * The per-request envelope of a 2026-07-28 request: its version (header and `_meta` agreeing),
 * the client's capabilities and identity, and the log level it asked for.
 *
 * MCP 2026-07-28 basic-index §_meta, "Per-request protocol fields": `protocolVersion` and
 * `clientCapabilities` are required ("A request missing any required field is malformed; the
 * server MUST reject it with -32602 ... On HTTP, the response status MUST be 400"); `clientInfo`
 * and `logLevel` are optional but must have their types. transports-streamable-http §Protocol
 * Version Header: the header MUST be present and MUST match `_meta` (else 400 HeaderMismatch);
 * a version the server does not implement gets 400 UnsupportedProtocolVersionError listing the
 * supported ones (versioning §Protocol Version Negotiation).
 */
import type {IncomingMessage} from 'node:http'
import {declaredCapabilities, logLevelRank, type ClientCapabilities} from '../caller.js'
import {ErrorCode, isId, metaOf, type JsonRpcId, type JsonRpcMessage} from '../json-rpc.js'
import {Refusal} from '../policy-step.js'
import {ALL_VERSIONS, headerVersion, isModern, MODERN_VERSION_META, type ModernVersion} from '../protocol-version.js'

export const CLIENT_INFO_META = 'io.modelcontextprotocol/clientInfo'
export const CLIENT_CAPABILITIES_META = 'io.modelcontextprotocol/clientCapabilities'
export const LOG_LEVEL_META = 'io.modelcontextprotocol/logLevel'
export const SERVER_INFO_META = 'io.modelcontextprotocol/serverInfo'
export const SUBSCRIPTION_ID_META = 'io.modelcontextprotocol/subscriptionId'

export interface Envelope {
  version: ModernVersion
  capabilities: ClientCapabilities
  /** The raw clientCapabilities object (for a 2026 child, passed on as declared). */
  rawCapabilities: Record<string, unknown>
  /** Rank of the least severe log message wanted (caller.ts LOG_LEVELS); Infinity when none was asked for. */
  logLevel: number
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** 400 with a JSON-RPC error carrying the request's id where it has one. */
export const refuse400 = (msg: JsonRpcMessage, code: number, message: string, data?: unknown): Refusal =>
  new Refusal(400, code, message, {}, undefined, idOf(msg), data)

export const idOf = (msg: JsonRpcMessage): JsonRpcId | null => (isId(msg.id) ? msg.id : null)

/** The UnsupportedProtocolVersionError of a version neither era serves. */
export const unsupportedVersion = (msg: JsonRpcMessage, requested: string | null): Refusal =>
  refuse400(msg, ErrorCode.UnsupportedProtocolVersion, 'Unsupported protocol version', {supported: [...ALL_VERSIONS], requested})

/**
 * Reads and checks the envelope of a 2026 request (or notification: its `_meta` may be absent,
 * transports-streamable-http §Sending Messages: header requirements for notification POSTs
 * are not defined by this revision). Throws Refusal (always 400) naming what is wrong.
 */
export function readEnvelope(req: IncomingMessage, msg: JsonRpcMessage): Envelope {
  const header = headerVersion(req)
  const meta = metaOf(msg)
  const fromMeta = meta?.[MODERN_VERSION_META]
  if (msg.params !== undefined && isObject(msg.params) && msg.params._meta !== undefined && meta === undefined) {
    throw refuse400(msg, ErrorCode.InvalidParams, 'Invalid params: _meta must be an object')
  }
  if (fromMeta !== undefined && typeof fromMeta !== 'string') {
    throw refuse400(msg, ErrorCode.InvalidParams, `Invalid params: _meta["${MODERN_VERSION_META}"] must be a string`)
  }
  const requested = (fromMeta as string | undefined) ?? header
  if (requested !== undefined && !isModern(requested)) throw unsupportedVersion(msg, requested)
  if (msg.id === undefined) {
    // A notification: its version must be modern when given, nothing more is required of it.
    return {version: (requested as ModernVersion | undefined) ?? '2026-07-28', capabilities: declaredCapabilities(undefined), rawCapabilities: {}, logLevel: Infinity}
  }
  if (fromMeta === undefined) {
    throw refuse400(msg, ErrorCode.InvalidParams, `Invalid params: _meta["${MODERN_VERSION_META}"] is required`)
  }
  if (header === undefined) throw refuse400(msg, ErrorCode.HeaderMismatch, 'Header mismatch: the MCP-Protocol-Version header is required')
  if (header !== fromMeta) {
    throw refuse400(msg, ErrorCode.HeaderMismatch, `Header mismatch: MCP-Protocol-Version header value '${header}' does not match body value '${fromMeta}'`)
  }
  const caps = meta![CLIENT_CAPABILITIES_META]
  if (!isObject(caps)) throw refuse400(msg, ErrorCode.InvalidParams, `Invalid params: _meta["${CLIENT_CAPABILITIES_META}"] is required and must be an object`)
  const info = meta![CLIENT_INFO_META]
  if (info !== undefined && (!isObject(info) || typeof info.name !== 'string' || typeof info.version !== 'string')) {
    throw refuse400(msg, ErrorCode.InvalidParams, `Invalid params: _meta["${CLIENT_INFO_META}"] must be an Implementation (name and version strings)`)
  }
  const level = meta![LOG_LEVEL_META]
  let logLevel = Infinity
  if (level !== undefined) {
    logLevel = logLevelRank(level)
    if (logLevel < 0) throw refuse400(msg, ErrorCode.InvalidParams, `Invalid params: _meta["${LOG_LEVEL_META}"] is not a LoggingLevel`)
  }
  return {version: fromMeta as ModernVersion, capabilities: declaredCapabilities(caps), rawCapabilities: caps, logLevel}
}
