/**
 * What a 2026-07-28 caller gets of a 2025 child's answer:
 * - every result carries `resultType: "complete"` (2026-07-28 basic-index §Responses: "The
 *   result MUST include a resultType");
 * - results of `tools/list`, `prompts/list`, `resources/list`, `resources/templates/list`,
 *   `resources/read` (and `server/discover`) carry `ttlMs` and `cacheScope`
 *   (server-utilities-caching §Cacheable Results). The scope is always "private": lists are
 *   filtered per token by the policy and a child may answer per client, so no shared cache may
 *   hold them (§Choosing a Cache Scope);
 * - the server's identity in `_meta["io.modelcontextprotocol/serverInfo"]` (basic-index
 *   §Per-response protocol fields);
 * - a "resource not found" error (-32002 up to 2025-11-25) as -32602 (changelog, minor 6).
 *
 * The common answer (a compact success line from an SDK server, `{"result":{…` with no `_meta`
 * and no `resultType`) is rewritten as text, without parsing: after `{"result":{` comes the
 * result object's first member or its `}`; the fields are spliced in there. Anything else is
 * parsed, changed and serialized.
 */
import {ErrorCode, type JsonRpcMessage} from '../json-rpc.js'
import {SERVER_INFO_META} from './envelope.js'

/** Methods whose results carry caching hints (server-utilities-caching §Cacheable Results). */
export const CACHEABLE = new Set(['server/discover', 'tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'resources/read'])

export interface ShapeOptions {
  /** The child's serverInfo (from its initialize result), as JSON text. */
  serverInfoJson: string
  /** ttlMs for list results; resources/read and retried requests get 0 (always re-fetched). */
  listTtlMs: number
  /** Seals a 2026-07-28 child's requestState of an InputRequiredResult (input-required.ts sealChildState); absent for a 2025 child. */
  sealState?: (state: string) => string
}

const HEAD = '{"result":{'

/**
 * A function that shapes one response line of `method` for a 2026 caller. `retried`: the
 * request carried `inputResponses`/`requestState`, whose results MUST NOT be cached
 * (server-utilities-caching §Cache Key): ttlMs 0.
 */
export function shaperFor(method: string, options: ShapeOptions, retried = false): (json: string) => string {
  const cacheable = CACHEABLE.has(method)
  const ttl = !cacheable ? undefined : method === 'resources/read' || retried ? 0 : options.listTtlMs
  const splice = `"resultType":"complete",${ttl === undefined ? '' : `"ttlMs":${ttl},"cacheScope":"private",`}"_meta":{"${SERVER_INFO_META}":${options.serverInfoJson}}`
  return function shape(json: string): string {
    if (json.startsWith(HEAD) && !json.includes('"_meta"') && !json.includes('"resultType"')) {
      const empty = json.charCodeAt(HEAD.length) === 125 /* } */
      return HEAD + splice + (empty ? '' : ',') + json.slice(HEAD.length)
    }
    let msg: JsonRpcMessage
    try {
      msg = JSON.parse(json) as JsonRpcMessage
    } catch {
      return json
    }
    if (typeof msg.result === 'object' && msg.result !== null && !Array.isArray(msg.result)) {
      const result = msg.result as Record<string, unknown>
      if (result.resultType === undefined) result.resultType = 'complete'
      if (result.resultType === 'input_required' && options.sealState && typeof result.requestState === 'string') result.requestState = options.sealState(result.requestState)
      if (ttl !== undefined && result.resultType === 'complete') {
        result.ttlMs ??= ttl
        result.cacheScope = 'private'
      }
      const meta = typeof result._meta === 'object' && result._meta !== null && !Array.isArray(result._meta) ? (result._meta as Record<string, unknown>) : {}
      meta[SERVER_INFO_META] ??= JSON.parse(options.serverInfoJson) as unknown
      result._meta = meta
    } else if (typeof msg.error === 'object' && msg.error !== null) {
      const error = msg.error as {code?: unknown}
      if (error.code === ErrorCode.ResourceNotFound) error.code = ErrorCode.InvalidParams
    }
    return JSON.stringify(msg)
  }
}
