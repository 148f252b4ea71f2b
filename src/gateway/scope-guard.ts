/**
 * Tool-level scopes in the gateway (issue: per-tool scopes; MCP 2025-11-25 authorization
 * §Scope Challenge Handling). Each call names what it touches: a tool, a resource URI or a
 * prompt; the policy says which scopes that needs. Lists are filtered to what the token may use,
 * so clients are not shown tools they would be refused.
 */
import type {Policy, PolicyKind} from '../policy/policy.js'
import {missingScopes} from '../policy/policy.js'
import type {JsonRpcMessage} from './json-rpc.js'
import type {Principal} from './principal.js'

/** What one request touches, for the policy and the audit trail. */
export interface Target {
  kind: PolicyKind
  name: string
}

/** The tool, resource or prompt a request is about (undefined for methods that touch none). */
export function targetOf(msg: JsonRpcMessage): Target | undefined {
  const params = msg.params as Record<string, unknown> | undefined
  if (typeof params !== 'object' || params === null) return undefined
  switch (msg.method) {
    case 'tools/call':
      return typeof params.name === 'string' ? {kind: 'tools', name: params.name} : undefined
    case 'prompts/get':
      return typeof params.name === 'string' ? {kind: 'prompts', name: params.name} : undefined
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe':
      return typeof params.uri === 'string' ? {kind: 'resources', name: params.uri} : undefined
    case 'completion/complete': {
      const ref = params.ref as {type?: unknown; name?: unknown; uri?: unknown} | undefined
      if (ref?.type === 'ref/prompt' && typeof ref.name === 'string') return {kind: 'prompts', name: ref.name}
      if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') return {kind: 'resources', name: ref.uri}
      return undefined
    }
    default:
      return undefined
  }
}

const LISTS: Record<string, {field: string; key: string; kind: PolicyKind}> = {
  'tools/list': {field: 'tools', key: 'name', kind: 'tools'},
  'prompts/list': {field: 'prompts', key: 'name', kind: 'prompts'},
  'resources/list': {field: 'resources', key: 'uri', kind: 'resources'},
  'resources/templates/list': {field: 'resourceTemplates', key: 'uriTemplate', kind: 'resources'},
}

export interface ScopeGuard {
  /** Scopes required for the target and those of them the token lacks. */
  check(principal: Principal, target: Target): {required: readonly string[]; missing: string[]}
  /** A rewrite of a list response down to what the token may use; undefined when there is nothing to filter. */
  listFilter(principal: Principal, method: string): ((json: string) => string) | undefined
}

export function createScopeGuard(current: () => Policy): ScopeGuard {
  return {
    check(principal, target) {
      const required = current().required(target.kind, target.name)
      return {required, missing: required.length === 0 ? [] : missingScopes(required, principal.scopes)}
    },
    listFilter(principal, method) {
      const list = LISTS[method]
      if (!list) return undefined
      const policy = current()
      if (policy.defaultScopes.length === 0 && policy.rules[list.kind].length === 0) return undefined
      return (json) => {
        let msg: {result?: Record<string, unknown>}
        try {
          msg = JSON.parse(json) as typeof msg
        } catch {
          return json
        }
        const items = msg.result?.[list.field]
        if (!Array.isArray(items)) return json
        msg.result![list.field] = items.filter((item: Record<string, unknown>) => {
          const name = item?.[list.key]
          return typeof name === 'string' && missingScopes(policy.required(list.kind, name), principal.scopes).length === 0
        })
        return JSON.stringify(msg)
      }
    },
  }
}
