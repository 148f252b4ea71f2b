/**
 * GET /mcp in a 2025 session: the standalone stream (MCP 2025-11-25 transports §Listening for
 * Messages from the Server), or a stream resumed with Last-Event-ID (§Resumability and
 * Redelivery). Throws Refusal (refusal.ts) to stop.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Principal} from '../../principal/principal.js'
import {missingScopes} from '../../policy/policy.js'
import {insufficientScope, invalidRequest} from '../refusal.js'
import type {Session} from '../session.js'
import {parseEventId} from '../sse.js'

/**
 * Attaches `res` to the stream the request asks for. Throws Refusal: 404 for an unknown
 * Last-Event-ID, 409 when that stream (or the standalone one) is already open (one standalone
 * stream per session, so no message is sent twice: §Multiple Connections), 403 with the scope
 * challenge when the stream answers requests made with scopes this token lacks.
 */
export function resumeOrListen(req: IncomingMessage, res: ServerResponse, principal: Principal, session: Session, resourceMetadataUrl: string): void {
  const last = parseEventId(req.headers['last-event-id'])
  if (last === undefined) {
    if (session.standalone.attached) throw invalidRequest('Conflict: only one SSE stream is allowed per session', 409)
    session.attachStandalone(res)
    return
  }
  const stream = session.streams.get(last.stream)
  if (stream === undefined) throw invalidRequest('Unknown Last-Event-ID', 404)
  if (stream.attached && stream.id === 0) throw invalidRequest('Conflict: the stream is already open', 409)
  // A replay carries answers prepared under the scopes of the token that asked (list filtering,
  // calls allowed to it): a token of the same client without them may not read them (issue 11, item 2).
  const lacking = stream.heldScopes ? missingScopes(stream.heldScopes, principal.scopes) : []
  if (lacking.length > 0) {
    const scope = [...new Set([...principal.scopes, ...stream.heldScopes!])].join(' ')
    throw insufficientScope(scope, `the stream answers requests made with scope ${lacking.join(' ')}`, resourceMetadataUrl)
  }
  stream.attach(res)
  stream.replayAfter(last.seq)
  if (stream.ended) res.end()
}
