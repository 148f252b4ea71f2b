/**
 * The one policy step every client message goes through before it can reach a child, whether
 * it came alone in a POST or in a JSON-RPC batch (issue 11, item 2): what kind of message it is,
 * whether its kind and method agree, which tool/resource/prompt it touches (in normal form), and
 * whether the token holds the scopes that needs. The answers to requests pass the same policy on
 * the way back (the list filter, carried by the exchange; scope-guard.ts).
 */
import {ErrorCode, errorResponse, isId, isNotification, isRequest, isResponse, type JsonRpcId, type JsonRpcMessage} from './json-rpc.js'
import {insufficientScope, Refusal} from './refusal.js'
import type {Principal} from '../principal/principal.js'
import {InvalidParamsError, resolveTarget, type ResponseFilter, type ScopeGuard, type Target} from './scope-guard.js'

// The endpoint's one error type (refusal.ts); re-exported for the era modules that import it from here.
export {Refusal}

export type Admitted =
  /** A request to forward; `filter` rewrites its response (list filtering). */
  | {kind: 'request'; msg: JsonRpcMessage; id: JsonRpcId; method: string; target?: Target; filter?: ResponseFilter}
  /** A request answered here with a JSON-RPC error (invalid params): it never reaches the child. */
  | {kind: 'answer'; msg: JsonRpcMessage; id: JsonRpcId; method: string; target?: Target; response: string}
  | {kind: 'notification'; msg: JsonRpcMessage}
  | {kind: 'response'; msg: JsonRpcMessage}

/**
 * Client notifications are `notifications/*` (MCP 2025-11-25 schema: ClientNotification). A
 * notification with any other method (`tools/call` without an id, ...) would be a request that
 * skips the policy and gets no answer: refused (issue 11, item 3).
 */
const isNotificationMethod = (method: string): boolean => method.startsWith('notifications/')

/**
 * Classifies one client message and applies the policy to it. Throws Refusal for what must not
 * go further (HTTP 400 for a malformed message or a request sent as a notification, HTTP 403
 * with the scope challenge for a target the token may not use). Resource URIs in `msg` are
 * rewritten to their normal form (the form that was checked is the form the child gets).
 */
export function admitMessage(
  msg: JsonRpcMessage,
  {principal, guard, resourceMetadataUrl}: {principal: Principal; guard: ScopeGuard | undefined; resourceMetadataUrl: string},
): Admitted {
  if (isRequest(msg)) {
    if (!isId(msg.id)) throw new Refusal(400, ErrorCode.InvalidRequest, 'Invalid Request: bad id')
    const method = msg.method as string
    const id = msg.id
    let target: Target | undefined
    try {
      target = resolveTarget(msg)
    } catch (error) {
      if (!(error instanceof InvalidParamsError)) throw error
      return {kind: 'answer', msg, id, method, response: errorResponse(id, ErrorCode.InvalidParams, error.message)}
    }
    if (target && guard) refuseScope(principal, guard, method, target, resourceMetadataUrl)
    return {kind: 'request', msg, id, method, target, filter: guard?.listFilter(principal, method)}
  }
  if (isNotification(msg)) {
    if (!isNotificationMethod(msg.method as string)) {
      throw new Refusal(400, ErrorCode.InvalidRequest, `Invalid Request: ${String(msg.method)} is a request method and needs an id`)
    }
    return {kind: 'notification', msg}
  }
  if (isResponse(msg)) return {kind: 'response', msg}
  throw new Refusal(400, ErrorCode.InvalidRequest, 'Invalid Request: not a JSON-RPC message')
}

/**
 * HTTP 403 with the scope challenge when the token lacks a scope the target needs (RFC 6750
 * §3.1; MCP 2025-11-25 authorization §Scope Challenge Handling). `scope` lists the token's
 * scopes plus the missing ones, so a step-up does not lose what was granted ("recommended
 * approach"). The header is built by bearerChallenge: a name in any script cannot break it.
 */
export function refuseScope(principal: Principal, guard: ScopeGuard, method: string, target: Target, resourceMetadataUrl: string): void {
  const {required, missing, forbidden} = guard.check(principal, target)
  if (forbidden) {
    // Not a scope problem (no step-up helps): the policy names who may use this (issue 17).
    const description = `${target.kind.slice(0, -1)} ${target.name} is not available to ${principal.user ? `user ${principal.user.name}` : 'this client'}`
    throw new Refusal(403, ErrorCode.InvalidRequest, `Forbidden: ${description}`, {}, {method, name: target.name})
  }
  if (missing.length === 0) return
  const scope = [...new Set([...principal.scopes, ...required])].join(' ')
  throw insufficientScope(scope, `${target.kind.slice(0, -1)} ${target.name} needs scope ${missing.join(' ')}`, resourceMetadataUrl, {method, name: target.name})
}
