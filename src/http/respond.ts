import {StoreUnavailableError} from '../store/errors.js'
import type {ServerResponse} from 'node:http'
import type {Logger} from '../log.js'
import {HttpError} from './errors.js'
import {answerWhenDrained} from './body.js'

/** Responses that carry tokens or credentials must never be cached (RFC 6749 §5.1). */
export const NO_STORE = {'Cache-Control': 'no-store', Pragma: 'no-cache'}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  })
  res.end(text)
}

/** The one mapping from a thrown value to a response. Unknown errors are 500s without detail. */
/** Seconds a client is asked to wait while the store cannot be reached. */
export const STORE_RETRY_AFTER_SECONDS = 2

export function sendError(res: ServerResponse, error: unknown, logger: Logger): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  if (error instanceof HttpError) {
    if (error.drained) {
      // A refused body: answered once the rest of it is discarded, then closed (http/body.ts).
      answerWhenDrained(res, error.drained, error.status, {'Content-Type': 'application/json', ...NO_STORE, ...error.headers}, JSON.stringify(error.body))
      return
    }
    sendJson(res, error.status, error.body, {...NO_STORE, ...error.headers})
    return
  }
  if (error instanceof StoreUnavailableError) {
    // The shared database is away (issue 14: refusals free of 5xx, with Retry-After, until it
    // returns): the same 429 temporarily_unavailable the rate limits answer (src/oauth/errors.ts).
    sendJson(res, 429, {error: 'temporarily_unavailable', error_description: 'the store is unavailable; retry later'}, {...NO_STORE, 'Retry-After': String(STORE_RETRY_AFTER_SECONDS)})
    return
  }
  logger.error('internal error', {error: String((error as Error)?.stack ?? error).split('\n').slice(0, 3).join(' | ')})
  sendJson(res, 500, {error: 'server_error', error_description: 'internal error'}, NO_STORE)
}
