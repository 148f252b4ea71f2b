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

export function parseMessage(text: string): JsonRpcMessage | undefined {
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
