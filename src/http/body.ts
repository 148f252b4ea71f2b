import type {IncomingMessage} from 'node:http'
import {HttpError, badRequest} from './errors.js'

/** Reads the whole body up to `limit` bytes; 413 beyond it, without buffering the excess. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(tooLarge(limit))
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        req.removeAllListeners('data')
        req.resume()
        reject(tooLarge(limit))
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)))
    req.on('error', reject)
  })
}

const tooLarge = (limit: number) =>
  new HttpError(413, {error: 'invalid_request', error_description: `request body larger than ${limit} bytes`}, {Connection: 'close'})

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
  const body = await readBody(req, limit)
  const text = decodeUtf8(body)
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

const utf8 = new TextDecoder('utf-8', {fatal: true})

/** Strict UTF-8: invalid sequences are a 400, not silently replaced. */
export function decodeUtf8(body: Buffer): string {
  try {
    return utf8.decode(body)
  } catch {
    throw badRequest('the body is not valid UTF-8')
  }
}
