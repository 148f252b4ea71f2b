import type {Clock} from '../../clock.js'
import {hashSecret, newClientId, newClientSecret} from '../../clients/credentials.js'
import {readJsonObject} from '../../http/body.js'
import {NO_STORE, sendJson} from '../../http/respond.js'
import type {Handler} from '../../http/router.js'
import type {Store} from '../../store/types.js'
import type {ClientDirectory} from '../client-directory.js'
import {InvalidClientMetadata, OAuthError, TooManyRequests} from '../errors.js'
import type {createBuckets} from '../rate-limit.js'
import {checkClientMetadata, registeredClientRecord} from './client-metadata.js'

/**
 * POST /oauth/register: dynamic client registration (RFC 7591 §3). Open (no initial access
 * token), as MCP clients expect, so it is rate-limited per address and bounded in body size and
 * in the number of live registrations; unused registrations expire (see server maintenance).
 * Answers 201 with the client's metadata as registered (§3.2.1), and a secret for confidential
 * clients, shown once and stored as a hash.
 */
export function createRegistrationEndpoint({
  store,
  clients,
  clock,
  limiter,
  supportedScopes,
  defaultScopes,
  maxBodyBytes,
  maxRegisteredClients,
}: {
  store: Store
  clients: ClientDirectory
  clock: Clock
  limiter: ReturnType<typeof createBuckets>
  supportedScopes: () => readonly string[]
  defaultScopes: () => readonly string[]
  maxBodyBytes: number
  maxRegisteredClients: number
}): Handler {
  return async (req, res, ctx) => {
    const wait = limiter.waitSeconds(ctx.remoteAddress)
    if (wait > 0) throw new TooManyRequests(wait, 'too many registrations from this address; retry later')
    limiter.take(ctx.remoteAddress)
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    if (type !== 'application/json') throw new InvalidClientMetadata('the registration request must be application/json (RFC 7591 §3.1)')
    let doc: unknown
    try {
      // RFC 7591 §3.1 JSON, with no member named twice (RFC 8259 §4; http/json-strict.ts).
      doc = await readJsonObject(req, maxBodyBytes, {onRepeat: (k) => new InvalidClientMetadata(`member ${k} is repeated`), onInvalid: (d) => new InvalidClientMetadata(d)})
    } catch (error) {
      if (error instanceof OAuthError || (error as {status?: number}).status) throw error
      throw new InvalidClientMetadata('the body is not valid JSON')
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new InvalidClientMetadata('the body must be a JSON object')
    const meta = checkClientMetadata(doc as Record<string, unknown>, {supportedScopes: supportedScopes(), defaultScopes: defaultScopes()})
    if ((await store.registeredClients.countActive()) >= maxRegisteredClients) {
      throw new OAuthError(503, 'temporarily_unavailable', 'this server has too many registered clients; ask its owner to revoke unused ones')
    }
    const secret = meta.authMethod === 'none' ? null : newClientSecret()
    const now = clock.now()
    const id = newClientId()
    await store.clients.insert(
      registeredClientRecord(meta, {id, secretHash: secret ? hashSecret(secret) : null, authMethod: meta.authMethod, registration: 'dynamic', createdAt: now}),
    )
    ctx.clientId = id
    sendJson(
      res,
      201,
      {
        client_id: id,
        ...(secret ? {client_secret: secret, client_secret_expires_at: 0} : {}),
        client_id_issued_at: Math.floor(now / 1000),
        client_name: meta.name,
        redirect_uris: meta.redirectUris,
        grant_types: meta.grantTypes,
        response_types: ['code'],
        token_endpoint_auth_method: meta.authMethod,
        scope: meta.scopes.join(' '),
        ...meta.extra,
      },
      NO_STORE,
    )
  }
}
