/**
 * A 2026-07-28 child's multi round-trip requests, answered by a 2025 session (MCP 2026-07-28
 * basic-patterns-mrtr; the relay's data and checks are in input-relay.ts). The child answers the
 * session's request with an InputRequiredResult: each question goes to the session as a
 * server-to-client request, and once all are answered the request is retried at the child with
 * `inputResponses` and the child's `requestState`, under a fresh id (§Client Requirements, 4).
 */
import type {Clock} from '../clock.js'
import type {ChildCallers} from './child-callers.js'
import {isInputRequired} from './child-era.js'
import type {ChildLink} from './child-link.js'
import type {ChildRouter} from './child-routing.js'
import {responseToCaller, type ServerRequestIds} from './id-rewrite.js'
import type {IdMap, Pending} from './id-map.js'
import {InputRelay, MAX_INPUT_ROUNDS, readQuestions, type RelayedQuestion} from './input-relay.js'
import {ErrorCode, errorLine, type JsonRpcMessage} from './json-rpc.js'
import type {Session} from './session.js'

export interface SessionInputDeps {
  ids: IdMap
  link: ChildLink
  callers: ChildCallers
  serverIds: ServerRequestIds
  /** Answers and fails requests towards their callers. */
  router: ChildRouter
  clock: Clock
  /** How long (ms) the request may wait for the session's answers, and then for the retry's result. */
  requestTimeoutMs: number
}

/** Relays one child's input requests to 2025 sessions (see the file comment). */
export class SessionInput {
  constructor(private readonly deps: SessionInputDeps) {}

  /** The child's answer to a 2025 session's request `p`: its result, or its questions relayed to the session. */
  relayOrRespond(p: Pending, msg: JsonRpcMessage): void {
    const router = this.deps.router
    if (!isInputRequired(msg.result)) {
      responseToCaller(msg, p)
      return router.respond(p, JSON.stringify(msg))
    }
    const session = p.caller as Session | undefined
    if (session === undefined || session.closed) return this.deps.callers.forget(p)
    const round = (p.relayRound ?? 0) + 1
    if (round > MAX_INPUT_ROUNDS) return router.fail(p, ErrorCode.InternalError, `the MCP server asked for input more than ${MAX_INPUT_ROUNDS} times for one request`)
    const questions = readQuestions(msg.result.inputRequests, (c) => session.capabilities[c])
    if ('error' in questions) return router.fail(p, questions.code, questions.error)
    if (questions.length === 0 && msg.result.requestState === undefined) return router.fail(p, ErrorCode.InternalError, 'the MCP server asked for input without inputRequests or requestState')
    const relay = new InputRelay(p.sent!, msg.result.requestState, round)
    // The request waits for the session's answers under its own id (bounded by its deadline, swept).
    p.relay = relay
    p.relayRound = round
    p.parked = true
    p.deadline = this.deps.clock.now() + this.deps.requestTimeoutMs
    this.deps.ids.add(p)
    for (const [key, q] of questions) {
      relay.expect(key)
      const sid = this.deps.serverIds.issue(session, {relay, key, gid: p.gid} satisfies RelayedQuestion)
      const json = JSON.stringify({jsonrpc: '2.0', id: sid, method: q.method, ...(q.params !== undefined ? {params: q.params} : {})})
      if (p.exchange?.reachable) p.exchange.related(json)
      else session.sendUnrelated(json)
    }
    if (questions.length === 0) this.retry(p)
  }

  /** The session answered one relayed question; the last answer sends the retry. */
  answer(session: Session, q: RelayedQuestion, msg: JsonRpcMessage): void {
    const p = this.deps.ids.get(q.gid)
    if (p === undefined || p.relay !== q.relay || p.caller !== session) return
    if (msg.error !== undefined) {
      this.deps.ids.take(p.gid)
      const e = msg.error as {code?: unknown; message?: unknown}
      return this.deps.router.fail(p, typeof e.code === 'number' ? e.code : ErrorCode.InternalError, `the client did not answer the MCP server's question: ${typeof e.message === 'string' ? e.message : 'error'}`)
    }
    if (q.relay.answer(q.key, msg.result)) this.retry(p)
  }

  /** Retries a request at the child with the session's answers and the child's requestState, under a fresh id. */
  private retry(p: Pending): void {
    const {ids, link} = this.deps
    ids.take(p.gid)
    const retry = p.relay!.retry()
    const gid = ids.allocate()
    retry.id = gid
    const params = retry.params as Record<string, unknown>
    if (p.progressToken !== undefined) params._meta = {...(params._meta as Record<string, unknown>), progressToken: gid}
    const next: Pending = {gid, method: p.method, caller: p.caller, idJson: p.idJson, progressToken: p.progressToken, exchange: p.exchange, deadline: this.deps.clock.now() + this.deps.requestTimeoutMs, sent: retry, relayRound: p.relayRound}
    ids.add(next)
    p.caller!.inflight.set(p.idJson, next)
    if (link.dead || !link.send(JSON.stringify(retry))) {
      ids.take(gid)
      this.deps.router.respond(next, errorLine(p.idJson, ErrorCode.ConnectionClosed, 'the MCP server is not running'))
    }
  }
}
