import {request, type Dispatcher} from 'undici'
import {BlockedAddressError} from './guarded-agent.js'

export class MetadataDocumentError extends Error {}

export interface FetchedDocument {
  doc: Record<string, unknown>
  /** How long the document may be reused, ms, from its HTTP caching headers. */
  maxAgeMs: number
}

/** RFC 9111 §5.2.2: max-age, and no-store / no-cache meaning "do not reuse"; else Expires; else a short default. */
export function freshnessMs(headers: Record<string, string | string[] | undefined>, {defaultMs, maxMs}: {defaultMs: number; maxMs: number}): number {
  const cc = String(headers['cache-control'] ?? '').toLowerCase()
  if (/(^|,)\s*(no-store|no-cache)\b/.test(cc)) return 0
  const m = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?/.exec(cc)
  if (m) return Math.min(Number(m[1]) * 1000, maxMs)
  const expires = Date.parse(String(headers.expires ?? ''))
  const date = Date.parse(String(headers.date ?? ''))
  if (Number.isFinite(expires)) return Math.max(0, Math.min(expires - (Number.isFinite(date) ? date : Date.now()), maxMs))
  return defaultMs
}

/**
 * GETs a client ID metadata document: through the guarded agent (no non-public addresses), no
 * redirects followed (a 3xx is a failure), a deadline for the whole exchange, and at most
 * `maxBytes` read. Every failure is a MetadataDocumentError with a reason safe to show.
 */
export async function fetchMetadataDocument(
  url: string,
  {dispatcher, maxBytes, timeoutMs, cacheDefaultMs, cacheMaxMs}: {dispatcher: Dispatcher; maxBytes: number; timeoutMs: number; cacheDefaultMs: number; cacheMaxMs: number},
): Promise<FetchedDocument> {
  let res: Dispatcher.ResponseData
  const signal = AbortSignal.timeout(timeoutMs)
  try {
    res = await request(url, {dispatcher, method: 'GET', headers: {accept: 'application/json'}, signal})
  } catch (error) {
    throw new MetadataDocumentError(describe(error))
  }
  try {
    if (res.statusCode >= 300 && res.statusCode < 400) throw new MetadataDocumentError(`it answered with a redirect (${res.statusCode}); redirects are not followed`)
    if (res.statusCode !== 200) throw new MetadataDocumentError(`it answered with HTTP ${res.statusCode}`)
    const declared = Number(res.headers['content-length'])
    if (Number.isFinite(declared) && declared > maxBytes) throw new MetadataDocumentError(`it is larger than ${maxBytes} bytes`)
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length
      if (size > maxBytes) throw new MetadataDocumentError(`it is larger than ${maxBytes} bytes`)
      chunks.push(chunk as Buffer)
    }
    let doc: unknown
    try {
      doc = JSON.parse(new TextDecoder('utf-8', {fatal: true}).decode(Buffer.concat(chunks)))
    } catch {
      throw new MetadataDocumentError('it is not valid JSON')
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new MetadataDocumentError('it is not a JSON object')
    return {doc: doc as Record<string, unknown>, maxAgeMs: freshnessMs(res.headers, {defaultMs: cacheDefaultMs, maxMs: cacheMaxMs})}
  } catch (error) {
    // Destroying an undici body emits an AbortError: swallow it, or it would crash the daemon.
    res.body.on('error', () => {})
    res.body.destroy()
    if (error instanceof MetadataDocumentError) throw error
    throw new MetadataDocumentError(describe(error))
  }
}

function describe(error: unknown): string {
  if (error instanceof BlockedAddressError || (error as {cause?: unknown}).cause instanceof BlockedAddressError) {
    return `its host resolves to a non-public address, which is not fetched (start the server with --allow-private-metadata-hosts for local development)`
  }
  const name = (error as {name?: string}).name ?? ''
  const code = (error as {code?: string}).code ?? ''
  if (name === 'TimeoutError' || name === 'AbortError' || code.includes('TIMEOUT')) return 'it took too long to answer'
  return `it could not be fetched (${code || (error as Error).message || 'error'})`
}
