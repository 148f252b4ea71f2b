/**
 * `Mcp-Param-{Name}` headers of a 2026-07-28 `tools/call`, checked against the tool's
 * `x-mcp-header` declarations (MCP 2026-07-28 transports-streamable-http §Custom Headers from
 * Tool Parameters, §Server Behavior for Custom Headers, §Server Validation).
 *
 * A tool declares a header by putting `"x-mcp-header": "Name"` on a parameter of primitive type
 * reachable from its `inputSchema` root through `properties` keys only. For each declared
 * parameter the client sends `Mcp-Param-Name` with the value at that path (integers in decimal,
 * booleans as `true`/`false`, strings as is; Base64 sentinel where not plain), and omits it when
 * the arguments have no value there. The gateway decodes and compares: a missing, extra,
 * malformed or disagreeing header is 400 HeaderMismatch (-32020). `Mcp-Param-*` headers the
 * tool does not declare are not recognized and are ignored (§Server Behavior: "MUST forward it
 * and otherwise ignore it"). A tool whose annotations break the constraints (§Schema Extension)
 * is one a conforming client drops from its list; the gateway checks nothing for it.
 *
 * The declarations come from the child's `tools/list`, cached per child and dropped on
 * `notifications/tools/list_changed` (child-tools.ts).
 */
import type {IncomingMessage} from 'node:http'
import {ErrorCode, paramsOf, type JsonRpcMessage} from '../json-rpc.js'
import {refuse400} from './envelope.js'
import {decodeHeaderValue} from './header-check.js'

/** Per tool name: its declared headers, by lower-cased name, each the property path it mirrors. */
export type ToolHeaders = Map<string, Map<string, {name: string; path: string[]}>>

/** RFC 9110 §5.1 token (1*tchar). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const MAX_DEPTH = 16

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * The declared headers of one tool's inputSchema, or undefined when there are none or the
 * declarations break a constraint of §Schema Extension (then nothing is checked for it).
 * Only annotations reachable through `properties` are found; one elsewhere (items, anyOf, $ref,
 * ...) makes the definition invalid, which a scan of the whole schema text detects.
 */
export function declaredHeaders(inputSchema: unknown): Map<string, {name: string; path: string[]}> | undefined {
  if (!isObject(inputSchema)) return undefined
  const found = new Map<string, {name: string; path: string[]}>()
  let valid = true
  const walk = (schema: Record<string, unknown>, path: string[]) => {
    if (path.length > MAX_DEPTH || !isObject(schema.properties)) return
    for (const [key, sub] of Object.entries(schema.properties)) {
      if (!isObject(sub)) continue
      const here = [...path, key]
      const name = sub['x-mcp-header']
      if (name !== undefined) {
        const type = sub.type
        if (typeof name !== 'string' || !TOKEN.test(name) || found.has(name.toLowerCase()) || (type !== 'string' && type !== 'integer' && type !== 'boolean')) valid = false
        else found.set(name.toLowerCase(), {name, path: here})
      }
      walk(sub, here)
    }
  }
  walk(inputSchema, [])
  if (!valid) return undefined
  // Every annotation in the schema must be one of those found through `properties`.
  const all = JSON.stringify(inputSchema).split('"x-mcp-header":').length - 1
  if (all !== found.size || found.size === 0) return undefined
  return found
}

/** The declared headers of every tool of a tools/list result page, added to `into`. */
export function addToolsPage(into: ToolHeaders, result: unknown): void {
  const tools = isObject(result) && Array.isArray(result.tools) ? result.tools : []
  for (const tool of tools) {
    if (!isObject(tool) || typeof tool.name !== 'string') continue
    const declared = declaredHeaders(tool.inputSchema)
    if (declared) into.set(tool.name, declared)
  }
}

/** §Value Encoding, type conversion; undefined for a value that cannot be mirrored. */
function headerForm(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value)
  return undefined
}

function valueAt(args: unknown, path: string[]): unknown {
  let v = args
  for (const key of path) {
    if (!isObject(v) || !Object.hasOwn(v, key)) return undefined
    v = v[key]
  }
  return v
}

/**
 * Checks a tools/call's `Mcp-Param-*` headers against the tool's declarations (undefined: the
 * tool declares none; nothing to check). Throws Refusal (400, -32020) naming the first header
 * that is missing, malformed, unexpected or disagreeing.
 */
export function checkParamHeaders(req: IncomingMessage, msg: JsonRpcMessage, declared: Map<string, {name: string; path: string[]}> | undefined): void {
  if (declared === undefined) return
  const args = paramsOf(msg)?.arguments
  for (const [lower, {name, path}] of declared) {
    const raw = req.headers[`mcp-param-${lower}`]
    const header = Array.isArray(raw) ? raw.join(', ') : raw
    const value = valueAt(args, path)
    if (value === undefined) {
      if (header !== undefined) throw refuse400(msg, ErrorCode.HeaderMismatch, `Header mismatch: Mcp-Param-${name} is sent but the arguments have no ${path.join('.')}`)
      continue
    }
    if (header === undefined) throw refuse400(msg, ErrorCode.HeaderMismatch, `Header mismatch: the Mcp-Param-${name} header is required (the tool mirrors ${path.join('.')})`)
    const decoded = decodeHeaderValue(header)
    if (decoded === undefined) throw refuse400(msg, ErrorCode.HeaderMismatch, `Header mismatch: the Mcp-Param-${name} header value is malformed`)
    if (decoded !== headerForm(value)) throw refuse400(msg, ErrorCode.HeaderMismatch, `Header mismatch: Mcp-Param-${name} header value does not match body value of ${path.join('.')}`)
  }
}
