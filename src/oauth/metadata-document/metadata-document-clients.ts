import type {Dispatcher} from 'undici'
import type {Clock} from '../../clock.js'
import type {ClientRecord, Store} from '../../store/types.js'
import {AuthorizePageError} from '../authorize/errors.js'
import type {ClientDirectory} from '../client-directory.js'
import {OAuthError} from '../errors.js'
import {checkClientMetadata, registeredClientRecord} from '../registration/client-metadata.js'
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
  cacheMaxMs = 24 * 3600_000,
}: {
  store: Store
  clients: ClientDirectory
  clock: Clock
  dispatcher: Dispatcher
  supportedScopes: () => readonly string[]
  maxBytes?: number
  timeoutMs?: number
  cacheDefaultMs?: number
  cacheMaxMs?: number
}) {
  const fresh = new Map<string, number>()

  async function load(url: string): Promise<ClientRecord> {
    let fetched
    try {
      fetched = await fetchMetadataDocument(url, {dispatcher, maxBytes, timeoutMs, cacheDefaultMs, cacheMaxMs})
    } catch (error) {
      if (error instanceof MetadataDocumentError) throw unusable(url, error.message)
      throw error
    }
    const {doc} = fetched
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
    if (fetched.maxAgeMs > 0) fresh.set(url, clock.now() + fetched.maxAgeMs)
    else fresh.delete(url)
    if (fresh.size > 10_000) fresh.delete(fresh.keys().next().value!)
    return client
  }

  return {
    async resolve(url: string): Promise<ClientRecord> {
      const problem = clientIdUrlProblem(url)
      if (problem) throw new AuthorizePageError(400, 'Unknown application', `the client_id URL ${problem}`)
      const until = fresh.get(url)
      if (until !== undefined && until > clock.now()) {
        const cached = await clients.get(url)
        if (cached) return cached
      }
      return load(url)
    },
  }
}

const unusable = (url: string, why: string) => new AuthorizePageError(400, 'Client metadata document unusable', `the client metadata document at ${url} cannot be used: ${why}`)
