/**
 * JSON-RPC 2.0 shapes as the gateway sees them: it parses only what routing needs (method, id,
 * a few params) and treats everything else as opaque.
 */
export type JsonRpcId = string | number

export interface JsonRpcMessage {
  jsonrpc?: unknown
  id?: unknown
  method?: unknown
  params?: unknown
  result?: unknown
  error?: unknown
}

/** Error codes used by the gateway (JSON-RPC 2.0 §5.1 and the MCP schema). */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** MCP 2025-11-25 schema: request cancelled / timed out are reported as errors on the request. */
  RequestTimeout: -32001,
  ConnectionClosed: -32000,
  /** MCP 2025-11-25 resources: resource not found (2026-07-28 changelog, minor 6: now -32602). */
  ResourceNotFound: -32002,
  /** MCP 2026-07-28 transports-streamable-http §Server Validation: HeaderMismatchError. */
  HeaderMismatch: -32020,
  /** MCP 2026-07-28 basic-index §_meta: MissingRequiredClientCapabilityError. */
  MissingRequiredClientCapability: -32021,
  /** MCP 2026-07-28 versioning: UnsupportedProtocolVersionError. */
  UnsupportedProtocolVersion: -32022,
} as const

export const isId = (v: unknown): v is JsonRpcId =>
  typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))

export const isRequest = (m: JsonRpcMessage): boolean => typeof m.method === 'string' && m.id !== undefined
export const isNotification = (m: JsonRpcMessage): boolean => typeof m.method === 'string' && m.id === undefined
export const isResponse = (m: JsonRpcMessage): boolean =>
  m.method === undefined && m.id !== undefined && (m.result !== undefined || m.error !== undefined)

export function errorResponse(id: JsonRpcId | null, code: number, message: string, data?: unknown): string {
  const error: Record<string, unknown> = {code, message}
  if (data !== undefined) error.data = data
  return JSON.stringify({jsonrpc: '2.0', id, error})
}

/** errorResponse for an id kept JSON-encoded (as the gateway keeps its callers' ids), spliced in as is. */
export const errorLine = (idJson: string, code: number, message: string): string =>
  `{"jsonrpc":"2.0","id":${idJson},"error":${JSON.stringify({code, message})}}`

/**
 * How deep JSON from a client or a child may nest (objects and arrays; the top level is 1).
 * JSON.parse is iterative in V8, but JSON.stringify and every other walk over a value recurse:
 * past a few thousand levels they throw RangeError (issue 11, item 23). Far above any real
 * MCP message (tool arguments and results nest a few levels).
 */
export const MAX_JSON_DEPTH = 128

/**
 * True when the JSON text nests objects/arrays deeper than `max`. One pass over the text, no
 * recursion and no allocation: brackets inside strings do not count. Works on any text (a
 * malformed one is left for JSON.parse to refuse).
 */
export function jsonDepthExceeds(text: string, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0
  const n = text.length
  let i = 0
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === 34 /* " */) {
      // Skip the string with indexOf (long strings are most of a big message): find the next
      // quote not escaped by an odd run of backslashes.
      let q = text.indexOf('"', i + 1)
      for (;;) {
        if (q < 0) return false
        let k = q - 1
        while (text.charCodeAt(k) === 92 /* \\ */) k--
        if ((q - 1 - k) % 2 === 0) break
        q = text.indexOf('"', q + 1)
      }
      i = q + 1
      continue
    }
    if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return true
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      depth--
    }
    i++
  }
  return false
}

/** The message in a line of JSON text; undefined when it is not JSON, not an object, or nested deeper than MAX_JSON_DEPTH. */
export function parseMessage(text: string): JsonRpcMessage | undefined {
  if (jsonDepthExceeds(text)) return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  return typeof value === 'object' && value !== null ? (value as JsonRpcMessage) : undefined
}

/** params as a plain object, or undefined. */
export function paramsOf(m: JsonRpcMessage): Record<string, unknown> | undefined {
  const p = m.params
  return typeof p === 'object' && p !== null && !Array.isArray(p) ? (p as Record<string, unknown>) : undefined
}

/** params._meta as a plain object, or undefined. */
export function metaOf(m: JsonRpcMessage): Record<string, unknown> | undefined {
  const meta = paramsOf(m)?._meta
  return typeof meta === 'object' && meta !== null && !Array.isArray(meta) ? (meta as Record<string, unknown>) : undefined
}
