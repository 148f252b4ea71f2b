import type {IncomingMessage} from 'node:http'
import type {Clock} from '../clock.js'
import {secretMatches} from '../clients/credentials.js'
import type {ClientRecord, Store} from '../store/types.js'
import {assertionClientId, JWT_BEARER_ASSERTION_TYPE, verifyClientAssertion} from './client-assertion.js'
import type {ClientDirectory} from './client-directory.js'
import {InvalidClient, InvalidRequest, OAuthError, TooManyRequests} from './errors.js'
import type {AuthFailureLimiter} from './rate-limit.js'
import type {UsageRecorder} from './usage-recorder.js'

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none'

export interface AuthenticatedClient {
  client: ClientRecord
  method: ClientAuthMethod
}

interface Presented {
  method: ClientAuthMethod
  clientId: string
  secret?: string
  assertion?: string
}

/** RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64. */
function parseBasic(header: string): {clientId: string; secret: string} {
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) throw new InvalidClient('malformed Basic credentials', {basic: true})
  try {
    return {
      clientId: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')),
      secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')),
    }
  } catch {
    throw new InvalidClient('malformed Basic credentials', {basic: true})
  }
}

/** Which credentials the request carries; more than one method is refused (RFC 6749 §2.3). */
function presented(req: IncomingMessage, params: Map<string, string>): Presented | undefined {
  const auth = req.headers.authorization
  const basic = auth !== undefined && /^basic /i.test(auth)
  const bodySecret = params.get('client_secret')
  const assertion = params.get('client_assertion')
  const count = Number(basic) + Number(bodySecret !== undefined) + Number(assertion !== undefined)
  if (count > 1) throw new InvalidRequest('use exactly one client authentication method')
  const bodyId = params.get('client_id')
  if (basic) {
    const {clientId, secret} = parseBasic(auth)
    if (bodyId !== undefined && bodyId !== clientId) throw new InvalidRequest('client_id differs from the authenticated client')
    return {method: 'client_secret_basic', clientId, secret}
  }
  if (bodySecret !== undefined) {
    if (!bodyId) throw new InvalidRequest('client_secret without client_id')
    return {method: 'client_secret_post', clientId: bodyId, secret: bodySecret}
  }
  if (assertion !== undefined) {
    if (params.get('client_assertion_type') !== JWT_BEARER_ASSERTION_TYPE) {
      throw new InvalidRequest(`client_assertion_type must be ${JWT_BEARER_ASSERTION_TYPE}`)
    }
    const clientId = assertionClientId(assertion)
    if (bodyId !== undefined && bodyId !== clientId) throw new InvalidRequest('client_id differs from the assertion issuer')
    return {method: 'private_key_jwt', clientId, assertion}
  }
  if (bodyId !== undefined) return {method: 'none', clientId: bodyId}
  return undefined
}

/** Attaches the id of a known client to a refusal, for the audit trail (OAuthError.clientId); never sent. */
function withClientId(error: unknown, clientId: string | undefined): unknown {
  if (clientId !== undefined && error instanceof OAuthError) error.clientId = clientId
  return error
}

/**
 * Authenticates the client of a token, introspection or revocation request. Every failure is the
 * same `invalid_client` whether the client is unknown, revoked or the secret wrong (no oracle),
 * and failures are rate-limited per client and per address: each attempt is reserved in the
 * limiter before it is checked and given back when it succeeds. A refusal (OAuthError) carries
 * `clientId` when the request named a known client, for the audit trail.
 */
export function createClientAuthenticator({
  clients,
  limiter,
  usage,
  store,
  clock,
  assertionAudiences,
}: {
  clients: ClientDirectory
  limiter: AuthFailureLimiter
  usage: UsageRecorder
  store: Store
  clock: Clock
  assertionAudiences: string[]
}) {
  return async function authenticate(
    req: IncomingMessage,
    params: Map<string, string>,
    {remoteAddress, allowPublic}: {remoteAddress: string; allowPublic: boolean},
  ): Promise<AuthenticatedClient> {
    const creds = presented(req, params)
    if (!creds) throw new InvalidClient('client authentication is required')
    const basic = creds.method === 'client_secret_basic'
    if (creds.clientId.length === 0 || creds.clientId.length > 2048) throw new InvalidClient(undefined, {basic})
    const client = await clients.get(creds.clientId)
    // The shared budgets first (every node's failures), then reserve the attempt in this node's
    // buckets, check it, and keep it spent unless it succeeds: a check made before an await and a
    // count made after it would let every one of N concurrent guesses through (RFC 9700 §4.10).
    // For secrets nothing is awaited between reservation and verdict, so concurrent good requests
    // never see each other's reservations; an assertion's signature check is awaited, and its
    // reservation is held meanwhile.
    const wait = await limiter.retryAfter(creds.clientId, remoteAddress)
    if (wait > 0) throw withClientId(new TooManyRequests(wait, 'too many failed authentication attempts; retry later'), client?.id)
    const reservation = limiter.reserve(creds.clientId, remoteAddress)
    if ('wait' in reservation) {
      throw withClientId(new TooManyRequests(reservation.wait, 'too many failed authentication attempts; retry later'), client?.id)
    }
    try {
      const usable = client !== undefined && client.revokedAt === null
      switch (creds.method) {
        case 'client_secret_basic':
        case 'client_secret_post': {
          // Compare even for unknown clients, so timing does not tell whether a client exists.
          const ok = secretMatches(creds.secret!, usable ? client.secretHash : null)
          if (!ok || !usable || (client.authMethod !== 'client_secret_basic' && client.authMethod !== 'client_secret_post')) {
            throw new InvalidClient(undefined, {basic})
          }
          break
        }
        case 'private_key_jwt':
          if (!usable) throw new InvalidClient()
          await verifyClientAssertion(creds.assertion!, client, {audiences: assertionAudiences, store, clock})
          break
        case 'none':
          if (!usable || client.authMethod !== 'none') throw new InvalidClient()
          if (!allowPublic) throw new InvalidClient('this endpoint needs client authentication')
          break
      }
    } catch (error) {
      // Only a failed authentication keeps the attempt spent (and counts in the shared budgets);
      // anything else (the store) gives it back.
      if (error instanceof InvalidClient) await reservation.failed()
      else reservation.refund()
      // The client the request named, for the audit trail, when it is one of ours (revoked or not):
      // never an unknown id, so the trail cannot be filled with names an attacker made up.
      throw withClientId(error, client?.id)
    }
    reservation.refund()
    await limiter.succeeded(client!.id, remoteAddress)
    usage.note(client!.id)
    return {client: client!, method: creds.method}
  }
}

export type ClientAuthenticator = ReturnType<typeof createClientAuthenticator>
