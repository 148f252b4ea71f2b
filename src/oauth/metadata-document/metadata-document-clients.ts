import type {Dispatcher} from 'undici'
import type {Clock} from '../../clock.js'
import type {ClientRecord, Store} from '../../store/types.js'
import {AuthorizePageError} from '../authorize/errors.js'
import type {ClientDirectory} from '../client-directory.js'
import {OAuthError} from '../errors.js'
import {checkClientMetadata, registeredClientRecord} from '../registration/client-metadata.js'
import {withoutNulls} from '../registration/registered-scopes.js'
import {fetchMetadataDocument, MetadataDocumentError} from './fetch-document.js'

/**
 * Why a URL cannot be a client_id (CIMD draft §3: https, a path, no fragment, no userinfo, no
 * dot segments), or null.
 */
export function clientIdUrlProblem(raw: string): string | null {
  if (raw.length > 2048) return 'is too long'
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return 'is not a URL'
  }
  if (url.protocol !== 'https:') return 'is not https'
  if (raw.includes('#')) return 'has a fragment'
  if (url.username || url.password) return 'has userinfo'
  if (url.pathname === '/' || url.pathname === '') return 'has no path'
  if (/\/\.\.?(\/|$)/.test(raw.replace(/[?].*$/, '')) || /%2e/i.test(url.pathname)) return 'has dot segments'
  return null
}

/**
 * Clients identified by the URL of their metadata document (MCP client registration, "Client ID
 * Metadata Documents"; draft-ietf-oauth-client-id-metadata-document). The document is fetched
 * (guarded, bounded), must name its own URL as client_id exactly, and is kept in the store as a
 * client (so tokens can refer to it) and in memory for as long as its caching headers allow.
 */
export function createMetadataDocumentClients({
  store,
  clients,
  clock,
  dispatcher,
  supportedScopes,
  maxBytes = 16 * 1024,
  timeoutMs = 5000,
  cacheDefaultMs = 5 * 60_000,
  cacheMinMs = 60_000,
  cacheMaxMs = 24 * 3600_000,
  registrations,
  maxClients,
}: {
  store: Store
  clients: ClientDirectory
  clock: Clock
  dispatcher: Dispatcher
  supportedScopes: () => readonly string[]
  maxBytes?: number
  timeoutMs?: number
  cacheDefaultMs?: number
  /** The shortest time a fetched document is reused, ms, whatever its caching headers say. */
  cacheMinMs?: number
  cacheMaxMs?: number
  /** The per-address registration budget (shared with /oauth/register). */
  registrations: {waitSeconds(key: string): number; take(key: string): void}
  /** At most this many active self-registered clients (registered and metadata-document ones together). */
  maxClients: number
}) {
  const fresh = new Map<string, number>()

  /** Refuses a new client beyond the address's budget or the cap; spends the budget otherwise. */
  async function admitNew(url: string, remoteAddress: string): Promise<void> {
    const known = await store.clients.findById(url)
    if (known && known.revokedBy !== 'expiry') return
    const wait = registrations.waitSeconds(remoteAddress)
    if (wait > 0) {
      throw new AuthorizePageError(429, 'Too many new applications', `too many new applications were registered from this address; try again in ${Math.ceil(wait)} s`)
    }
    registrations.take(remoteAddress)
    if ((await store.registeredClients.countActive()) >= maxClients) {
      throw new AuthorizePageError(503, 'Too many applications', 'this server has too many registered applications; ask its owner to revoke unused ones')
    }
  }

  async function load(url: string, remoteAddress: string): Promise<ClientRecord> {
    await admitNew(url, remoteAddress)
    let fetched
    try {
      fetched = await fetchMetadataDocument(url, {dispatcher, maxBytes, timeoutMs, cacheDefaultMs, cacheMaxMs})
    } catch (error) {
      if (error instanceof MetadataDocumentError) throw unusable(url, error.message)
      throw error
    }
    // RFC 7591 §2 members, so null means absent here too (registration/registered-scopes.ts).
    const doc = withoutNulls(fetched.doc)
    // CIMD draft §4.1: the document's client_id must be its own URL, byte for byte.
    if (doc.client_id !== url) throw unusable(url, 'its client_id is not the URL it was fetched from')
    if (typeof doc.client_name !== 'string') throw unusable(url, 'it has no client_name')
    if (doc.client_secret !== undefined || doc.client_secret_expires_at !== undefined) throw unusable(url, 'it contains a client secret')
    const method = doc.token_endpoint_auth_method ?? 'none'
    if (method !== 'none') throw unusable(url, `token_endpoint_auth_method ${JSON.stringify(String(method).slice(0, 40))} is not supported for metadata documents here (use none)`)
    let meta
    try {
      meta = checkClientMetadata({...doc, token_endpoint_auth_method: 'none'}, {supportedScopes: supportedScopes(), defaultScopes: supportedScopes()})
    } catch (error) {
      if (error instanceof OAuthError) throw unusable(url, error.message)
      throw error
    }
    const client = await store.registeredClients.upsertMetadataDocumentClient(
      registeredClientRecord(meta, {id: url, secretHash: null, authMethod: 'none', registration: 'metadata_document', createdAt: clock.now()}),
    )
    fresh.delete(url)
    fresh.set(url, clock.now() + Math.max(fetched.maxAgeMs, cacheMinMs))
    if (fresh.size > 10_000) fresh.delete(fresh.keys().next().value!)
    return client
  }

  return {
    /** The client the document at `url` describes; `remoteAddress` is the requester's (for its budget). */
    async resolve(url: string, {remoteAddress}: {remoteAddress: string}): Promise<ClientRecord> {
      const problem = clientIdUrlProblem(url)
      if (problem) throw new AuthorizePageError(400, 'Unknown application', `the client_id URL ${problem}`)
      const until = fresh.get(url)
      if (until !== undefined && until > clock.now()) {
        const cached = await clients.get(url)
        if (cached && cached.revokedBy !== 'expiry') return cached
      }
      return load(url, remoteAddress)
    },
  }
}

const unusable = (url: string, why: string) => new AuthorizePageError(400, 'Client metadata document unusable', `the client metadata document at ${url} cannot be used: ${why}`)
