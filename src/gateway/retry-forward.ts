/**
 * Several daemons behind a balancer that is not sticky: a 2026-07-28 multi round-trip retry
 * (`inputResponses` + `requestState`) may reach a node other than the one whose MCP server holds
 * the request waiting for that input (input-required.ts: a 2025 child's request is parked in
 * that node's process). MCP 2026-07-28 basic-patterns-mrtr promises these requests work "without
 * requiring a shared storage layer across server instances or requiring stateful load
 * balancing", so the receiving node forwards the retry, once, to the node its requestState names
 * (sealed in by that node, so a client cannot choose the target), at the URL that node
 * advertises in the shared nodes table (its heartbeat row), and relays the answer as it comes
 * (JSON or an SSE stream). The client's request is sent as it came (its bearer token included:
 * the holder checks it again, as for any request; every node has the same --issuer, so the same
 * audience, and the Host is the holder's own advertised one, which its Host check accepts), marked
 * `Gatehouse-Forwarded-By: <node id>` so that it is never forwarded again.
 *
 * When the holder is not among the live nodes, or cannot be reached before it answers, the retry
 * gets the refusal of a request that has ended (400, -32602: send the request again without
 * requestState), as the spec's error handling expects; nothing is half done.
 */
import {request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse} from 'node:http'
import {request as httpsRequest} from 'node:https'
import type {Logger} from '../log.js'
import type {ParkedElsewhere} from './modern/input-required.js'

/** The header that marks a forwarded retry (lower case, as node:http gives header names). */
export const FORWARDED_BY = 'gatehouse-forwarded-by'

/** Sends `body` (the retry, as JSON text) to the node named by `parked`, and relays its answer on `res`; throws `parked` when it cannot. */
export type RetryForwarder = (parked: ParkedElsewhere, req: IncomingMessage, res: ServerResponse, body: string) => Promise<void>

/** Request headers the holder needs to judge the retry as if it had come to it. */
const PASSED = new Set(['authorization', 'content-type', 'accept', 'origin', 'user-agent', 'mcp-protocol-version', 'mcp-method', 'mcp-name'])
/** Answer headers relayed to the client (hop-by-hop ones and the holder's own are not). */
const RELAYED = new Set(['content-type', 'cache-control', 'retry-after', 'www-authenticate', 'x-content-type-options'])

function pick(headers: IncomingHttpHeaders, keep: (name: string) => boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && keep(name)) out[name] = value
  return out
}

/**
 * `nodeUrl(id)`: the base URL a live node advertises (undefined when it is gone). `timeoutMs`
 * bounds the wait for the holder's answer to start (a tool call may run long: the gateway's
 * request timeout).
 */
export function createRetryForwarder({
  selfId,
  nodeUrl,
  logger,
  timeoutMs,
}: {
  selfId: string
  nodeUrl: (id: string) => Promise<string | undefined>
  logger: Logger
  timeoutMs: number
}): RetryForwarder {
  return async (parked, req, res, body) => {
    const base = await nodeUrl(parked.node).catch(() => undefined)
    if (!base) {
      logger.info('a multi round-trip retry names a node that is gone; refused', {node: parked.node})
      throw parked
    }
    const target = new URL(req.url ?? '/mcp', base)
    const headers: Record<string, string | string[] | number> = {
      ...pick(req.headers, (name) => PASSED.has(name) || name.startsWith('mcp-param-')),
      [FORWARDED_BY]: selfId,
      'content-length': Buffer.byteLength(body),
    }
    await new Promise<void>((resolve, reject) => {
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest
      const out = send(target, {method: 'POST', headers, timeout: timeoutMs}, (answer) => {
        res.writeHead(answer.statusCode ?? 502, pick(answer.headers, (name) => RELAYED.has(name) || name.startsWith('mcp-')))
        answer.pipe(res)
        answer.once('end', () => resolve())
        answer.once('error', () => (res.destroy(), resolve()))
      })
      out.once('timeout', () => out.destroy(new Error(`no answer within ${timeoutMs} ms`)))
      out.once('error', (error) => {
        if (res.headersSent) return res.destroy(), resolve()
        logger.warn('a multi round-trip retry could not be forwarded to the node holding its request; refused', {node: parked.node, url: target.origin, error: error.message})
        reject(parked)
      })
      // The client gone: closing the forwarded stream cancels the request at the holder too.
      res.once('close', () => out.destroy())
      out.end(body)
    })
  }
}
