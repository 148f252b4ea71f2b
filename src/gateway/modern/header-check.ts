/**
 * The standard request headers of a 2026-07-28 POST and their agreement with the body (MCP
 * 2026-07-28 transports-streamable-http §Standard Request Headers, §Value Encoding, §Server
 * Validation): `Mcp-Method` (every request) equals `method`; `Mcp-Name` (tools/call,
 * resources/read, prompts/get) equals `params.name` or `params.uri` after decoding the Base64
 * sentinel `=?base64?…?=`; a missing, malformed or disagreeing header is 400 HeaderMismatch
 * (-32020). The gateway decides on the body (policy, routing, audit); these checks make sure no
 * component in front of it saw a different request in the headers.
 *
 * `Mcp-Param-{Name}` (§Custom Headers from Tool Parameters) is checked against the tool's
 * `x-mcp-header` declarations when the gateway knows the tool's schema (tool-headers.ts); a
 * recognized header with invalid characters or an undecodable value is refused too.
 */
import type {IncomingMessage} from 'node:http'
import {ErrorCode, paramsOf, type JsonRpcMessage} from '../json-rpc.js'
import {refuse400} from './envelope.js'

/** Where `Mcp-Name` comes from, per method (§Standard Request Headers). */
export const NAME_SOURCE: Readonly<Record<string, 'name' | 'uri'>> = {'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri'}

const SENTINEL = /^=\?base64\?([A-Za-z0-9+/]*={0,2})\?=$/

/** RFC 9110 §5.5 field value characters the spec allows unencoded: visible ASCII, space and tab. */
const PLAIN = /^[\x20-\x7e\t]*$/

/**
 * The value a header carries: decoded when it is a Base64 sentinel (its UTF-8 must be valid),
 * as is otherwise. Undefined when it cannot be a valid value (bad Base64 or UTF-8, or
 * characters outside the plain set).
 */
export function decodeHeaderValue(raw: string): string | undefined {
  const m = SENTINEL.exec(raw)
  if (m) {
    if (m[1]!.length % 4 !== 0) return undefined
    const bytes = Buffer.from(m[1]!, 'base64')
    try {
      return new TextDecoder('utf-8', {fatal: true}).decode(bytes)
    } catch {
      return undefined
    }
  }
  if (raw.startsWith('=?base64?')) return undefined
  return PLAIN.test(raw) ? raw : undefined
}

const single = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name]
  return Array.isArray(v) ? v.join(', ') : v
}

/** Checks Mcp-Method and Mcp-Name against the body; throws Refusal (400, -32020) on any disagreement. */
export function checkStandardHeaders(req: IncomingMessage, msg: JsonRpcMessage): void {
  const method = single(req, 'mcp-method')
  if (method === undefined) throw refuse400(msg, ErrorCode.HeaderMismatch, 'Header mismatch: the Mcp-Method header is required')
  if (method !== msg.method) {
    throw refuse400(msg, ErrorCode.HeaderMismatch, `Header mismatch: Mcp-Method header value '${printable(method)}' does not match body value '${printable(String(msg.method))}'`)
  }
  const source = NAME_SOURCE[msg.method as string]
  if (source === undefined) return
  const raw = single(req, 'mcp-name')
  if (raw === undefined) throw refuse400(msg, ErrorCode.HeaderMismatch, `Header mismatch: the Mcp-Name header is required for ${msg.method}`)
  const name = decodeHeaderValue(raw)
  if (name === undefined) throw refuse400(msg, ErrorCode.HeaderMismatch, 'Header mismatch: the Mcp-Name header value is malformed')
  const body = paramsOf(msg)?.[source]
  if (typeof body !== 'string' || body !== name) {
    throw refuse400(msg, ErrorCode.HeaderMismatch, `Header mismatch: Mcp-Name header value '${printable(name)}' does not match body value '${printable(typeof body === 'string' ? body : String(body))}'`)
  }
}

/** A value as it may appear in an error message: short, and without control characters. */
const printable = (v: string): string => (v.length > 200 ? v.slice(0, 200) + '…' : v).replace(/[\x00-\x1f\x7f]/g, '?')
