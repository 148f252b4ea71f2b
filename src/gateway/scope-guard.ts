/**
 * Tool-level scopes in the gateway (issue: per-tool scopes; MCP 2025-11-25 authorization
 * §Scope Challenge Handling). Each call names what it touches: a tool, a resource URI or a
 * prompt; the policy says which scopes that needs. Lists are filtered to what the token may use,
 * so clients are not shown tools they would be refused.
 *
 * Resource URIs are checked in their normal form (policy/resource-uri.ts), and the request is
 * forwarded with that form in place of the client's spelling: the child reads exactly the URI
 * the policy was checked against (issue 11, item 1).
 */
import type {Policy, PolicyKind} from '../policy/policy.js'
import {missingScopes} from '../policy/policy.js'
import {normalizeResourceUri, ResourceUriError} from '../policy/resource-uri.js'
import {paramsOf, type JsonRpcMessage} from './json-rpc.js'
import type {Principal} from '../principal/principal.js'

/** What one request touches, for the policy and the audit trail. */
export interface Target {
  kind: PolicyKind
  /** The tool or prompt name; for a resource, its normalised URI. */
  name: string
}

/** A request whose target is missing, malformed or ambiguous: JSON-RPC -32602 Invalid params. */
export class InvalidParamsError extends Error {
  override readonly name = 'InvalidParamsError'
}

const stringParam = (params: Record<string, unknown>, key: string, method: string): string => {
  const v = params[key]
  if (typeof v !== 'string') throw new InvalidParamsError(`Invalid params: ${method} needs a string ${key}`)
  return v
}

/** The normal form of a client's resource URI, or InvalidParamsError saying why there is none. */
function resourceUri(raw: string): string {
  try {
    return normalizeResourceUri(raw)
  } catch (error) {
    if (error instanceof ResourceUriError) throw new InvalidParamsError(`Invalid params: resource URI refused: ${error.message}`)
    throw error
  }
}

/**
 * The tool, resource or prompt a request is about (undefined for methods that touch none).
 * A resource URI in `msg` (params.uri, or params.ref.uri of completion/complete) is replaced by
 * its normal form. Throws InvalidParamsError when a method that names a target does not name
 * one properly (fail closed: nothing unchecked reaches the child).
 */
export function resolveTarget(msg: JsonRpcMessage): Target | undefined {
  const method = msg.method
  switch (method) {
    case 'tools/call':
    case 'prompts/get':
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe':
    case 'completion/complete':
      break
    default:
      return undefined
  }
  const params = paramsOf(msg)
  if (params === undefined) throw new InvalidParamsError(`Invalid params: ${method} needs params`)
  switch (method) {
    case 'tools/call':
      return {kind: 'tools', name: stringParam(params, 'name', method)}
    case 'prompts/get':
      return {kind: 'prompts', name: stringParam(params, 'name', method)}
    case 'completion/complete': {
      const ref = params.ref
      if (typeof ref !== 'object' || ref === null || Array.isArray(ref)) throw new InvalidParamsError('Invalid params: completion/complete needs a ref')
      const r = ref as Record<string, unknown>
      if (r.type === 'ref/prompt') return {kind: 'prompts', name: stringParam(r, 'name', 'ref/prompt')}
      if (r.type === 'ref/resource') {
        r.uri = resourceUri(stringParam(r, 'uri', 'ref/resource'))
        return {kind: 'resources', name: r.uri as string}
      }
      throw new InvalidParamsError('Invalid params: completion/complete ref must be ref/prompt or ref/resource')
    }
    default: {
      params.uri = resourceUri(stringParam(params, 'uri', method))
      return {kind: 'resources', name: params.uri as string}
    }
  }
}

const LISTS: Record<string, {field: string; key: string; kind: PolicyKind; template?: boolean}> = {
  'tools/list': {field: 'tools', key: 'name', kind: 'tools'},
  'prompts/list': {field: 'prompts', key: 'name', kind: 'prompts'},
  'resources/list': {field: 'resources', key: 'uri', kind: 'resources'},
  'resources/templates/list': {field: 'resourceTemplates', key: 'uriTemplate', kind: 'resources', template: true},
}

/** Rewrites a parsed response in place. */
export type ResponseFilter = (response: JsonRpcMessage) => void

export interface ScopeGuard {
  /** Scopes required for the target and those of them the token lacks; `forbidden` when the policy names who may use it and this caller is not one (issue 17). */
  check(principal: Principal, target: Target): {required: readonly string[]; missing: string[]; forbidden?: boolean}
  /** A rewrite of a list response down to what the token may use; undefined when there is nothing to filter. */
  listFilter(principal: Principal, method: string): ResponseFilter | undefined
}

export function createScopeGuard(current: () => Policy): ScopeGuard {
  return {
    check(principal, target) {
      const policy = current()
      const required = policy.required(target.kind, target.name)
      const forbidden = !policy.permits(target.kind, target.name, principal.user)
      return {required, missing: required.length === 0 ? [] : missingScopes(required, principal.scopes), ...(forbidden ? {forbidden} : {})}
    },
    listFilter(principal, method) {
      const list = LISTS[method]
      if (!list) return undefined
      const policy = current()
      if (policy.defaultScopes.length === 0 && policy.rules[list.kind].length === 0) return undefined
      const allowed = (name: string) => missingScopes(policy.required(list.kind, name), principal.scopes).length === 0 && policy.permits(list.kind, name, principal.user)
      return (msg) => {
        const result = msg.result as Record<string, unknown> | undefined
        const items = result?.[list.field]
        if (!Array.isArray(items)) return
        result![list.field] = items.filter((item: Record<string, unknown> | null) => {
          const name = item?.[list.key]
          if (typeof name !== 'string') return false
          if (list.kind !== 'resources') return allowed(name)
          let uri: string
          try {
            uri = normalizeResourceUri(name)
          } catch {
            // A URI the gateway would refuse to read is not shown; a template is matched as written.
            if (!list.template) return false
            uri = name
          }
          return allowed(uri)
        })
      }
    },
  }
}
