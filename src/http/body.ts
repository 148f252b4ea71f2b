import type {IncomingMessage, ServerResponse} from 'node:http'
import type {BodyLease} from './body-budget.js'
import {HttpError, badRequest} from './errors.js'
import {DuplicateMemberError, JsonSyntaxError, parseJsonStrict} from './json-strict.js'

/**
 * A request body refused before it was read whole: too large (413) or over the bytes of bodies
 * the daemon may hold at once (503). `drained` settles once the rest of the body has been read
 * and discarded, within bounds: the answer is sent then, and the connection closed, so a client
 * that writes its whole body before reading (Node's fetch) gets the answer, not EPIPE.
 */
export class BodyRefusedError extends Error {
  constructor(
    message: string,
    readonly status: 413 | 503,
    readonly drained: Promise<void>,
    /** Seconds, for Retry-After (503 only). */
    readonly retryAfter?: number,
  ) {
    super(message)
  }
}

export class BodyTooLargeError extends BodyRefusedError {
  override readonly name = 'BodyTooLargeError'
}

/** Over the bytes of request bodies the daemon holds at once (src/http/body-budget.ts). */
export class BodyBudgetError extends BodyRefusedError {
  override readonly name = 'BodyBudgetError'
}

/** The body is not UTF-8 (RFC 8259 §8.1): refused rather than passed on with U+FFFD in it. */
export class InvalidUtf8Error extends Error {
  override readonly name = 'InvalidUtf8Error'
}

const strictUtf8 = new TextDecoder('utf-8', {fatal: true})

/** What the request pipeline (src/http/app.ts) gives every request's body reader. */
export interface BodyContext {
  /** The bytes this request's body may hold; absent: unbounded but for the per-request limit. */
  lease?: BodyLease
  /** After a refusal, how much more of the body is read and discarded, bytes and ms. */
  drainBytes: number
  drainMs: number
}

const BODY_CONTEXT = Symbol('gatehouse.body')
type WithContext = IncomingMessage & {[BODY_CONTEXT]?: BodyContext}

/** Attaches the pipeline's body context to a request (src/http/app.ts does, for each request). */
export function setBodyContext(req: IncomingMessage, context: BodyContext): void {
  ;(req as WithContext)[BODY_CONTEXT] = context
}

const DEFAULT_CONTEXT: BodyContext = {drainBytes: 0, drainMs: 0}

/**
 * Reads and discards the rest of a request body, up to `drainBytes` more bytes and `drainMs`;
 * resolves when the body has ended or a bound is reached (then the connection is closed
 * after the answer; a client still writing gets a reset, as it would anyway).
 */
function discardRest(req: IncomingMessage, {drainBytes, drainMs}: BodyContext, declared: number): Promise<void> {
  if (req.complete || drainBytes <= 0 || drainMs <= 0 || declared > drainBytes) {
    req.resume()
    return Promise.resolve()
  }
  return new Promise((resolve) => {
    let seen = 0
    const done = () => {
      clearTimeout(timer)
      req.off('data', onData)
      resolve()
    }
    const onData = (chunk: Buffer) => {
      seen += chunk.length
      if (seen > drainBytes) done()
    }
    const timer = setTimeout(done, drainMs)
    req.on('data', onData)
    req.once('end', done)
    req.once('close', done)
    req.resume()
  })
}

/**
 * Reads a request body as strict UTF-8 text, up to `limit` bytes (DESIGN.md principle 7), holding
 * its bytes under the request's lease (src/http/body-budget.ts). Beyond the limit:
 * BodyTooLargeError; beyond the lease: BodyBudgetError; neither buffers the excess. Bad bytes:
 * InvalidUtf8Error. Each endpoint family maps these to its own error form (OAuth JSON below,
 * JSON-RPC in the gateway), and answers a refusal with sendRefusal.
 */
export function readBodyText(req: IncomingMessage, limit: number): Promise<string> {
  const context = (req as WithContext)[BODY_CONTEXT] ?? DEFAULT_CONTEXT
  const declared = Number(req.headers['content-length'])
  const tooLarge = () => new BodyTooLargeError(`body exceeds ${limit} bytes`, 413, discardRest(req, context, Number.isFinite(declared) ? declared : 0))
  const overBudget = () =>
    new BodyBudgetError('too many request bodies in progress; retry shortly', 503, discardRest(req, context, Number.isFinite(declared) ? declared : 0), 1)
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge())
  // A declared length is held at once, so a refused request reads nothing.
  if (Number.isFinite(declared) && declared > 0 && context.lease && !context.lease.take(declared)) return Promise.reject(overBudget())
  const perChunk = !(Number.isFinite(declared) && declared > 0) && context.lease !== undefined
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let failed = false
    const fail = (error: Error) => {
      failed = true
      chunks.length = 0
      req.off('data', onData)
      reject(error)
    }
    const onData = (chunk: Buffer) => {
      if (failed) return
      size += chunk.length
      if (size > limit) return fail(tooLarge())
      if (perChunk && !context.lease!.take(chunk.length)) return fail(overBudget())
      chunks.push(chunk)
    }
    req.on('data', onData)
    req.on('end', () => {
      if (failed) return
      try {
        resolve(strictUtf8.decode(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)))
      } catch {
        reject(new InvalidUtf8Error('Parse error: the body is not valid UTF-8'))
      }
    })
    req.on('error', (error) => {
      if (!failed) reject(error)
      failed = true
    })
  })
}

/**
 * Answers a refused body: the status, `Connection: close` (RFC 9112 §9.6) and Retry-After for a
 * 503, the body sent at once, and the response ended (so the connection closed) only once the
 * rest of the request body has been discarded within bounds.
 */
export function sendRefusal(res: ServerResponse, error: BodyRefusedError, contentType: string, body: string, headers: Record<string, string> = {}): void {
  answerWhenDrained(res, error.drained, error.status, {
    ...headers,
    'Content-Type': contentType,
    ...(error.retryAfter !== undefined ? {'Retry-After': String(error.retryAfter)} : {}),
  }, body)
}

/**
 * Sends a refusal once the rest of the request body has been discarded (`drained`, bounded in
 * bytes and time), with `Connection: close` (RFC 9112 §9.6). Answering only then is what every
 * client that writes its whole body before it reads can take: an answer that arrives while such
 * a client is still writing makes some (undici 7's fetch) abort their own upload and report
 * EPIPE instead of the status. Past the drain bounds the answer goes out and the connection closes.
 */
export function answerWhenDrained(res: ServerResponse, drained: Promise<void>, status: number, headers: Record<string, string>, body: string): void {
  void drained.then(() => {
    if (res.headersSent || res.destroyed) return
    res.writeHead(status, {...headers, 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close'})
    res.end(body)
  })
}

/** The body of an OAuth request as text; its failures as RFC 6749 errors (413, 503 / invalid_request). */
export async function readText(req: IncomingMessage, limit: number): Promise<string> {
  try {
    return await readBodyText(req, limit)
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      throw new HttpError(413, {error: 'invalid_request', error_description: `request body larger than ${limit} bytes`}, {Connection: 'close'}, error.drained)
    }
    if (error instanceof BodyBudgetError) {
      throw new HttpError(503, {error: 'temporarily_unavailable', error_description: error.message}, {Connection: 'close', 'Retry-After': String(error.retryAfter ?? 1)}, error.drained)
    }
    if (error instanceof InvalidUtf8Error) throw badRequest('the body is not valid UTF-8')
    throw error
  }
}

/**
 * A JSON request body that must be one object with no member named twice (RFC 6749 §3.1, §3.2;
 * src/http/json-strict.ts). A repeated top-level member is `onRepeat(key)`, as a repeated form
 * parameter is; other failures are 400 invalid_request.
 */
export async function readJsonObject(
  req: IncomingMessage,
  limit: number,
  {onRepeat = (key: string) => badRequest(`parameter ${key} is repeated`), onInvalid = badRequest}: {onRepeat?: (key: string) => Error; onInvalid?: (description: string) => Error} = {},
): Promise<Record<string, unknown>> {
  const text = await readText(req, limit)
  let doc: unknown
  try {
    doc = parseJsonStrict(text)
  } catch (error) {
    if (error instanceof DuplicateMemberError) throw error.topLevel ? onRepeat(error.key) : onInvalid(error.message)
    if (error instanceof JsonSyntaxError) throw onInvalid(error.message)
    throw error
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw onInvalid('the JSON body must be an object')
  return doc as Record<string, unknown>
}

const mediaType = (req: IncomingMessage) => (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()

/**
 * The parameters of an OAuth request: application/x-www-form-urlencoded (RFC 6749) or
 * application/json (CONTRACT.md). Every value must be a single string: a repeated parameter is
 * an error, in a form body and in a JSON body alike, with the same error (RFC 6749 §3.1, §3.2:
 * "Request and response parameters MUST NOT be included more than once").
 */
export async function readParams(
  req: IncomingMessage,
  limit: number,
  {onRepeat = (key: string) => badRequest(`parameter ${key} is repeated`)}: {onRepeat?: (key: string) => Error} = {},
): Promise<Map<string, string>> {
  const type = mediaType(req)
  if (type !== 'application/x-www-form-urlencoded' && type !== 'application/json') {
    // RFC 6749 §5.2 has no 415; an unusable body is invalid_request.
    throw badRequest('Content-Type must be application/x-www-form-urlencoded or application/json')
  }
  const params = new Map<string, string>()
  if (type === 'application/json') {
    const doc = await readJsonObject(req, limit, {onRepeat})
    for (const [k, v] of Object.entries(doc)) {
      if (v === null || v === undefined) continue
      if (typeof v !== 'string') {
        if (typeof v === 'number' || typeof v === 'boolean') {
          params.set(k, String(v))
          continue
        }
        throw badRequest(`parameter ${k} must be a string`)
      }
      params.set(k, v)
    }
    return params
  }
  const text = await readText(req, limit)
  for (const [k, v] of new URLSearchParams(text)) {
    if (params.has(k)) throw onRepeat(k)
    params.set(k, v)
  }
  return params
}
