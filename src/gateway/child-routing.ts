/**
 * What one child writes, routed to its callers (DESIGN.md, notes on client mode): responses to
 * the caller whose request it answers, server-to-client requests and request-scoped
 * notifications to the caller whose in-flight request caused them, change notifications to the
 * sessions and listeners that want them. A message that maps to no live caller is dropped and
 * logged, never delivered elsewhere; a server-to-client request then gets a JSON-RPC error.
 *
 * Attribution is never a guess (issue 11, item 14): a message from the child belongs to a
 * caller only when it carries the (rewritten) progress token of one of that caller's requests,
 * or when the child serves one client and exactly one of its callers is busy (or exists). In
 * `shared` mode nothing unattributable is fanned out except list_changed, which says nothing
 * about any client.
 */
import type {Logger} from '../log.js'
import {logLevelRank, type Caller} from './caller.js'
import type {ChildCallers} from './child-callers.js'
import type {ChildLink} from './child-link.js'
import {classifyChildMessage, createNoiseLog} from './child-message.js'
import type {ToolHeaderCache} from './child-tools.js'
import {cancellationToSession, progressToCaller, responseToCaller, type ServerRequestIds} from './id-rewrite.js'
import type {IdMap, Pending} from './id-map.js'
import {capabilityFor} from './input-relay.js'
import {ErrorCode, errorLine, metaOf, paramsOf, parseMessage, type JsonRpcMessage} from './json-rpc.js'
import {oversizedResponseId} from './oversize-line.js'
import {fastResponseId, replaceTrailingId} from './response-line.js'
import type {Session} from './session.js'

const LIST_CHANGED = new Set(['notifications/tools/list_changed', 'notifications/resources/list_changed', 'notifications/prompts/list_changed'])

export interface RouterDeps {
  tag: string
  logger: Logger
  /** True when callers of several clients share the child: then nothing is attributed without a token. */
  shared: boolean
  maxLineBytes: number
  ids: IdMap
  link: ChildLink
  callers: ChildCallers
  serverIds: ServerRequestIds
  tools: ToolHeaderCache
  /** The child's answer to a 2025 session's request to a 2026-07-28 child (`p.sent` set): session-input.ts. */
  relayOrRespond(p: Pending, msg: JsonRpcMessage): void
  /** The child asked a 2026 caller something while serving `pending` (modern/input-required.ts); absent: refused. */
  askModern?(caller: Caller, pending: Pending, msg: JsonRpcMessage): void
}

/** Routes one child's lines to its callers (see the file comment); never throws on what the child writes. */
export class ChildRouter {
  /** Lines on the child's stdout that are not JSON-RPC messages: logged (bounded) and dropped. */
  private readonly noise: ReturnType<typeof createNoiseLog>

  constructor(private readonly deps: RouterDeps) {
    this.noise = createNoiseLog(deps.logger, deps.tag)
  }

  /** One line the child wrote (child-link.ts onLine). */
  line(line: string): void {
    const {ids, logger, tag} = this.deps
    // The fast path: a success response of the shape argued in response-line.ts.
    const tail = fastResponseId(line)
    if (tail !== undefined) {
      const p = ids.take(tail.id)
      if (p === undefined) this.dropped(tail.id)
      else if (p.onResponse) p.onResponse(parseMessage(line) ?? {})
      else if (p.sent !== undefined && line.includes('"input_required"')) this.deps.relayOrRespond(p, parseMessage(line) ?? {})
      else this.respond(p, replaceTrailingId(line, tail.at, p.idJson))
      return
    }
    // Everything else is parsed and validated: only JSON-RPC 2.0 messages go on (child-message.ts).
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      return this.noise('not JSON', line.length)
    }
    const m = classifyChildMessage(value)
    if (m.kind === 'noise') this.noise(m.reason, line.length, m.keys)
    else if (m.kind === 'request') this.request(m.msg)
    else if (m.kind === 'notification') this.notification(m.msg, line)
    else this.response(m.msg)
  }

  /** A line over maxLineBytes was dropped: if it was a response, that request fails now rather than at its timeout. */
  oversize(bytes: number, tail: string, head: string): void {
    const id = oversizedResponseId(head, tail)
    const p = typeof id === 'number' ? this.deps.ids.take(id) : undefined
    this.deps.logger.warn('child wrote a line longer than maxLineBytes; dropped', {child: this.deps.tag, bytes, limit: this.deps.maxLineBytes, request: p?.method})
    if (p) this.fail(p, ErrorCode.InternalError, `the MCP server's message exceeded the ${this.deps.maxLineBytes}-byte line limit`)
  }

  /** The final answer to `p` (already under the caller's id); dropped and logged when the caller has gone. */
  respond(p: Pending, json: string): void {
    this.deps.callers.forget(p)
    if (p.exchange?.reachable) p.exchange.final(json)
    else this.deps.logger.debug('response for a client that has gone; dropped', {child: this.deps.tag, method: p.method})
  }

  /** A response to no request in flight: a late answer to the timed-out probe is expected; anything else is the child's fault. */
  private dropped(id: unknown): void {
    const {ids, logger, tag} = this.deps
    if (id === ids.expiredProbe) logger.info('the MCP server answered server/discover after its deadline; it stays spoken to as a 2025 server', {child: tag})
    else logger.warn('child answered an unknown or finished request; dropped', {child: tag, id: typeof id === 'number' || typeof id === 'string' ? id : String(id)})
  }

  /** Ends `p` with a JSON-RPC error of the gateway's (the gateway's own requests get it as their response). */
  fail(p: Pending, code: number, message: string): void {
    if (p.onResponse) p.onResponse({error: {code, message}})
    else this.respond(p, errorLine(p.idJson, code, message))
  }

  private response(msg: JsonRpcMessage): void {
    const p = typeof msg.id === 'number' ? this.deps.ids.take(msg.id) : undefined
    if (p === undefined) return this.dropped(msg.id)
    if (p.onResponse) return p.onResponse(msg)
    if (p.sent !== undefined) return this.deps.relayOrRespond(p, msg)
    responseToCaller(msg, p)
    this.respond(p, JSON.stringify(msg))
  }

  private request(msg: JsonRpcMessage): void {
    const {link} = this.deps
    const method = msg.method as string
    if (method === 'ping') {
      link.send(`{"jsonrpc":"2.0","id":${JSON.stringify(msg.id)},"result":{}}`)
      return
    }
    const {caller, pending} = this.attribute(msg)
    if (caller === undefined) {
      this.deps.logger.warn('server-to-client request maps to no single session; refused, not guessed', {child: this.deps.tag, method, sessions: this.deps.callers.sessions.size, requests: this.deps.callers.modern.size})
      return link.replyError(msg.id, ErrorCode.InternalError, `the gateway cannot tell which session ${method} is for`)
    }
    const needs = capabilityFor(method)
    if (needs !== undefined && !caller.capabilities[needs]) return link.replyError(msg.id, ErrorCode.MethodNotFound, `the client did not declare the ${needs} capability`)
    if (caller.era === 'modern') {
      // 2026-07-28 basic-patterns-mrtr: the question goes back in the request's result.
      if (needs === undefined || pending === undefined || this.deps.askModern === undefined) {
        return link.replyError(msg.id, ErrorCode.MethodNotFound, `${method} cannot be relayed to a 2026-07-28 client`)
      }
      return this.deps.askModern(caller, pending, msg)
    }
    const session = caller as Session
    msg.id = this.deps.serverIds.issue(session, msg.id)
    const json = JSON.stringify(msg)
    if (pending?.exchange?.reachable) pending.exchange.related(json)
    else session.sendUnrelated(json)
  }

  private notification(msg: JsonRpcMessage, line: string): void {
    const {callers, tag, logger} = this.deps
    const method = msg.method as string
    // The acknowledgment of the gateway's own listen on a 2026-07-28 child (child-subscriptions.ts).
    if (method === 'notifications/subscriptions/acknowledged') return
    if (method === 'notifications/tools/list_changed') this.deps.tools.drop()
    if (LIST_CHANGED.has(method)) {
      for (const s of callers.sessions) s.sendUnrelated(line)
      for (const l of callers.listeners) if (l.wants(method)) l.deliver(msg)
      return
    }
    if (method === 'notifications/progress') {
      const p = progressToCaller(msg, this.deps.ids)
      if (p === undefined) return logger.debug('progress for no live request; dropped', {child: tag})
      p.exchange!.related(JSON.stringify(msg))
      return
    }
    if (method === 'notifications/resources/updated') {
      const uri = paramsOf(msg)?.uri
      if (typeof uri !== 'string') return
      for (const s of callers.sessions) if (s.subscriptions.has(uri)) s.sendUnrelated(line)
      for (const l of callers.listeners) if (l.wants(method, uri)) l.deliver(msg)
      return
    }
    if (method === 'notifications/cancelled') {
      // The child cancels one of its own server-to-client requests.
      cancellationToSession(msg, callers.sessions)?.sendUnrelated(JSON.stringify(msg))
      return
    }
    const rank = method === 'notifications/message' ? logLevelRank(paramsOf(msg)?.level) : Infinity
    const {caller, pending} = this.attribute(msg)
    if (caller !== undefined) {
      if (rank < caller.logLevel) return
      if (pending?.exchange?.reachable) pending.exchange.related(line)
      else caller.sendUnrelated(line)
      return
    }
    if (!this.deps.shared && method === 'notifications/message') {
      // One client's child: its log is that client's, for each of its sessions at their level.
      for (const s of callers.sessions) if (rank >= s.logLevel) s.sendUnrelated(line)
      return
    }
    // Delivered to no one (issue 11, item 14): which session it is for would be a guess.
    logger.warn('notification maps to no single session; dropped, not guessed', {child: tag, method})
  }

  /**
   * Which caller (and which of its requests) a message from the child belongs to, when that is
   * known rather than guessed: the request whose (rewritten) progress token it carries in _meta;
   * else, on a child that serves one client, its only caller, or its only caller with requests in
   * flight (and that request, if it has exactly one). Empty otherwise.
   */
  private attribute(msg: JsonRpcMessage): {caller?: Caller; pending?: Pending} {
    const token = metaOf(msg)?.progressToken
    if (typeof token === 'number') {
      const p = this.deps.ids.get(token)
      if (p?.caller && !p.caller.closed && !p.parked) return {caller: p.caller, pending: p}
    }
    // Never a guess across clients: a shared child's callers belong to different clients
    // (issue 11 item 14), so without a progress token its message goes to no one.
    if (this.deps.shared) return {}
    // Every caller of this child (a 2025 session, or a 2026 request in flight) is the same
    // client's. A server sends a request or a request-scoped notification while serving a request
    // of the client's (MCP 2025-11-25 transports §Sending Messages, 6), so when exactly one caller
    // has requests in flight (or only one caller exists) it is that caller's; more than one busy
    // caller stays a guess. (2026 requests carry the gateway's own progress token, matched above.)
    const all = this.deps.callers.all()
    let only: Caller | undefined
    if (all.length === 1) only = all[0]
    else {
      for (const c of all) {
        if (c.inflight.size === 0) continue
        if (only !== undefined) return {}
        only = c
      }
    }
    if (only === undefined) return {}
    const pending = only.inflight.size === 1 ? only.inflight.values().next().value : undefined
    return {caller: only, pending}
  }
}
