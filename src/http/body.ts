import type {IncomingMessage} from 'node:http'
import {HttpError, badRequest} from './errors.js'

export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError'
}

/** The body is not UTF-8 (RFC 8259 §8.1): refused rather than passed on with U+FFFD in it. */
export class InvalidUtf8Error extends Error {
  override readonly name = 'InvalidUtf8Error'
}

const strictUtf8 = new TextDecoder('utf-8', {fatal: true})

/**
 * Reads a request body as strict UTF-8 text, up to `limit` bytes (DESIGN.md principle 7). Beyond
 * the limit: BodyTooLargeError, without buffering the excess; bad bytes: InvalidUtf8Error. Each
 * endpoint family maps these to its own error form (OAuth JSON below, JSON-RPC in the gateway).
 */
export function readBodyText(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    req.resume()
    return Promise.reject(new BodyTooLargeError(`body exceeds ${limit} bytes`))
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let failed = false
    req.on('data', (chunk: Buffer) => {
      if (failed) return
      size += chunk.length
      if (size > limit) {
        failed = true
        reject(new BodyTooLargeError(`body exceeds ${limit} bytes`))
        return
      }
      chunks.push(chunk)
    })
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

/** The body of an OAuth request as text; its failures as RFC 6749 errors (413 / invalid_request). */
export async function readText(req: IncomingMessage, limit: number): Promise<string> {
  try {
    return await readBodyText(req, limit)
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      throw new HttpError(413, {error: 'invalid_request', error_description: `request body larger than ${limit} bytes`}, {Connection: 'close'})
    }
    if (error instanceof InvalidUtf8Error) throw badRequest('the body is not valid UTF-8')
    throw error
  }
}

const mediaType = (req: IncomingMessage) => (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()

/**
 * The parameters of an OAuth request: application/x-www-form-urlencoded (RFC 6749) or
 * application/json (CONTRACT.md). Every value must be a single string: a repeated parameter is
 * an error (RFC 6749 §3.2: "Request and response parameters MUST NOT be included more than once").
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
  const text = await readText(req, limit)
  const params = new Map<string, string>()
  if (type === 'application/json') {
    let doc: unknown
    try {
      doc = JSON.parse(text)
    } catch {
      throw badRequest('the body is not valid JSON')
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw badRequest('the JSON body must be an object')
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
  for (const [k, v] of new URLSearchParams(text)) {
    if (params.has(k)) throw onRepeat(k)
    params.set(k, v)
  }
  return params
}
