import {adminEvent, type Actor} from '../audit/actor.js'
import type {Clock} from '../clock.js'
import {GatehouseError, invalidInput} from '../errors.js'
import {StoreConflictError} from '../store/errors.js'
import type {ClientRecord, NewClient, Store, TokenEndpointAuthMethod} from '../store/types.js'
import {hashSecret, newClientId, newClientSecret, type RandomBytes} from './credentials.js'
import {validateRedirectUris} from './redirect-uris.js'
import {pickByName} from './resolve-name.js'
import {validateDescription, validateGrantTypes, validateName, validateScopes} from './validate.js'

export interface GenerateInput {
  name: string
  description?: string | undefined
  scopes?: readonly string[] | undefined
  grantTypes?: readonly string[] | undefined
  redirectUris?: readonly string[] | undefined
  accessTokenTtl?: number | null | undefined
  authMethod?: TokenEndpointAuthMethod | undefined
  jwks?: {keys: Record<string, unknown>[]} | null | undefined
  /** Requests per minute at the token endpoint / the MCP endpoint; null: the server's setting. */
  tokenRateLimit?: number | null | undefined
  mcpRateLimit?: number | null | undefined
  /** Most MCP sessions this client may hold at once; null: the server's per-client cap. */
  maxSessions?: number | null | undefined
}

export interface GeneratedClient {
  client: ClientRecord
  /** The secret in clear: returned once, never stored. Null for clients without one. */
  secret: string | null
}

function validateRateLimit(value: number | null | undefined, what: string): number | null {
  if (value === undefined || value === null) return null
  if (!Number.isInteger(value) || value < 1 || value > 1_000_000) throw invalidInput(`the ${what} rate limit must be a whole number of requests per minute, 1 to 1000000`)
  return value
}

function validateMaxSessions(value: number | null | undefined): number | null {
  if (value === undefined || value === null) return null
  if (!Number.isInteger(value) || value < 1 || value > 100_000) throw invalidInput('the session cap must be a whole number of sessions, 1 to 100000')
  return value
}

/** Scopes a client gets when none are named: access to the gated MCP server. */
export const DEFAULT_SCOPES = ['mcp']

/**
 * Client administration: what the CLI commands and the console call. Each creation and revocation
 * is recorded here as one audit event (`client.created`, `client.revoked`) naming the `actor` the
 * caller passes (its `method`: cli or console).
 */
export function createClientAdmin({store, clock, random}: {store: Store; clock: Clock; random?: RandomBytes}) {
  async function generate(input: GenerateInput, actor: Actor): Promise<GeneratedClient> {
    const name = validateName(input.name)
    const description = validateDescription(input.description)
    const scopes = validateScopes(input.scopes && input.scopes.length > 0 ? input.scopes : DEFAULT_SCOPES)
    const grantTypes = validateGrantTypes(input.grantTypes && input.grantTypes.length > 0 ? input.grantTypes : ['client_credentials'])
    const redirectUris = validateRedirectUris(input.redirectUris ?? [])
    if (grantTypes.includes('authorization_code') && redirectUris.length === 0) {
      throw invalidInput('the authorization_code grant needs at least one --redirect-uri')
    }
    if (!grantTypes.includes('authorization_code') && redirectUris.length > 0) {
      throw invalidInput('redirect URIs are only used with the authorization_code grant; add --grant-type authorization_code')
    }
    const authMethod = input.authMethod ?? 'client_secret_basic'
    if (authMethod === 'private_key_jwt' && !input.jwks) throw invalidInput('private_key_jwt needs a public key (--public-key)')
    if (authMethod !== 'private_key_jwt' && input.jwks) throw invalidInput('a public key is only used with --auth-method private_key_jwt')
    if (authMethod === 'none' && grantTypes.includes('client_credentials')) {
      throw invalidInput('a public client (auth method none) cannot use client_credentials')
    }
    // Unique among active clients made here; self-registered clients may share names.
    if ((await store.clients.findActiveByName(name)).some((c) => c.registration === 'cli')) {
      throw new GatehouseError('CONFLICT', `an active client named ${JSON.stringify(name)} already exists`)
    }
    const secret = authMethod === 'client_secret_basic' || authMethod === 'client_secret_post' ? newClientSecret(random) : null
    const client: NewClient = {
      id: newClientId(random),
      name,
      description,
      secretHash: secret ? hashSecret(secret) : null,
      authMethod,
      jwks: input.jwks ?? null,
      scopes,
      grantTypes,
      redirectUris,
      accessTokenTtl: input.accessTokenTtl ?? null,
      tokenRateLimit: validateRateLimit(input.tokenRateLimit, 'token'),
      mcpRateLimit: validateRateLimit(input.mcpRateLimit, 'MCP'),
      maxSessions: validateMaxSessions(input.maxSessions),
      registration: 'cli',
      metadata: {},
      createdAt: clock.now(),
    }
    try {
      await store.clients.insert(client)
    } catch (error) {
      // Two generators racing for one name: the partial unique index decides.
      if (error instanceof StoreConflictError) {
        throw new GatehouseError('CONFLICT', `an active client named ${JSON.stringify(name)} already exists`)
      }
      throw error
    }
    await store.audit.append([adminEvent(actor, 'client.created', client.createdAt, {clientId: client.id, detail: {name, scopes, grant_types: grantTypes}})])
    return {client: {...client, lastUsedAt: null, revokedAt: null, revokedBy: null, revokedReason: null}, secret}
  }

  /**
   * A client by id, or by the name of an active client: owner-created clients first, so a
   * self-registered client named alike never shadows them (`pickByName`). NOT_FOUND when none,
   * CONFLICT when the name is ambiguous among self-registered clients.
   */
  async function find(ref: string): Promise<ClientRecord> {
    const byId = await store.clients.findById(ref)
    if (byId) return byId
    const byName = pickByName(await store.clients.findActiveByName(ref), ref)
    if (byName) return byName
    throw new GatehouseError('NOT_FOUND', `no client with id or name ${JSON.stringify(ref)}`)
  }

  async function revoke(ref: string, {by, reason}: {by: string; reason?: string | undefined}, actor: Actor): Promise<ClientRecord> {
    const client = await find(ref)
    if (client.revokedAt !== null) {
      throw new GatehouseError('CONFLICT', `client ${client.id} was already revoked at ${new Date(client.revokedAt).toISOString()}`)
    }
    const at = clock.now()
    const done = await store.clients.revoke(client.id, {at, by, reason: reason ?? null})
    if (!done) throw new GatehouseError('CONFLICT', `client ${client.id} was revoked concurrently`)
    await store.audit.append([adminEvent(actor, 'client.revoked', at, {clientId: client.id, detail: reason ? {reason} : {}})])
    return {...client, revokedAt: at, revokedBy: by, revokedReason: reason ?? null}
  }

  return {
    generate,
    find,
    revoke,
    list: (options: {includeRevoked: boolean}) => store.clients.list(options),
  }
}

export type ClientAdmin = ReturnType<typeof createClientAdmin>
