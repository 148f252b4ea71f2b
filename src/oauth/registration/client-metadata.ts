import {redirectUriProblem} from '../../clients/redirect-uris.js'
import {limits, validateName} from '../../clients/validate.js'
import {invisibleCharacter} from '../../clients/visible-text.js'
import type {NewClient, TokenEndpointAuthMethod} from '../../store/types.js'
import {InvalidClientMetadata, InvalidRedirectUri} from '../errors.js'
import {registeredScopes, withoutNulls} from './registered-scopes.js'

/** What a client may say about itself when it registers (RFC 7591 §2), once checked. */
export interface ClientMetadata {
  name: string
  redirectUris: string[]
  authMethod: TokenEndpointAuthMethod
  grantTypes: string[]
  scopes: string[]
  /** Informational fields kept and echoed back (client_uri, logo_uri, software_id, software_version). */
  extra: Record<string, string>
}

const AUTH_METHODS: TokenEndpointAuthMethod[] = ['none', 'client_secret_basic', 'client_secret_post']
const GRANT_TYPES = ['authorization_code', 'refresh_token']
const INFO_URLS = ['client_uri', 'logo_uri', 'tos_uri', 'policy_uri']
const INFO_STRINGS = ['software_id', 'software_version']

/**
 * Checks registration metadata (RFC 7591 §2, §3.2.2): redirect URIs by the same rule as the CLI
 * (https, loopback http, or a private-use scheme; never javascript:, data:, fragments or
 * userinfo), the grant and response types this server offers for interactive clients, bounded
 * strings. Metadata it does not understand is ignored (RFC 7591 §2); a member whose value is
 * null counts as absent; requested scopes are granted as far as this server offers them
 * (`registeredScopes`, RFC 7591 §3.2.1), the rest dropped.
 */
export function checkClientMetadata(document: Record<string, unknown>, {supportedScopes, defaultScopes}: {supportedScopes: readonly string[]; defaultScopes: readonly string[]}): ClientMetadata {
  const doc = withoutNulls(document)
  const uris = doc.redirect_uris
  if (!Array.isArray(uris) || uris.length === 0) throw new InvalidRedirectUri('redirect_uris must be a non-empty array')
  if (uris.length > limits.redirectUris) throw new InvalidRedirectUri(`at most ${limits.redirectUris} redirect URIs`)
  for (const u of uris) {
    if (typeof u !== 'string') throw new InvalidRedirectUri('every redirect URI must be a string')
    const problem = redirectUriProblem(u)
    if (problem) throw new InvalidRedirectUri(`redirect URI ${JSON.stringify(u.slice(0, 200))} ${problem}`)
  }

  const authMethod = (doc.token_endpoint_auth_method ?? 'client_secret_basic') as TokenEndpointAuthMethod
  if (!AUTH_METHODS.includes(authMethod)) {
    throw new InvalidClientMetadata(`token_endpoint_auth_method must be one of ${AUTH_METHODS.join(', ')}`)
  }
  const grantTypes = doc.grant_types ?? ['authorization_code', 'refresh_token']
  if (!Array.isArray(grantTypes) || grantTypes.some((g) => typeof g !== 'string' || !GRANT_TYPES.includes(g)) || !grantTypes.includes('authorization_code')) {
    throw new InvalidClientMetadata(`grant_types must include authorization_code and may add refresh_token; nothing else can be registered`)
  }
  const responseTypes = doc.response_types ?? ['code']
  if (!Array.isArray(responseTypes) || responseTypes.length !== 1 || responseTypes[0] !== 'code') {
    throw new InvalidClientMetadata('response_types must be ["code"]')
  }
  if (doc.jwks !== undefined || doc.jwks_uri !== undefined) throw new InvalidClientMetadata('jwks and jwks_uri cannot be registered here')

  const scopes = registeredScopes(doc.scope, {supported: supportedScopes, defaults: defaultScopes})

  let name = 'Unnamed client'
  if (doc.client_name !== undefined) {
    if (typeof doc.client_name !== 'string') throw new InvalidClientMetadata('client_name must be a string')
    refuseInvisible('client_name', doc.client_name.trim())
    try {
      name = validateName(doc.client_name)
    } catch (error) {
      throw new InvalidClientMetadata((error as Error).message)
    }
  }
  for (const u of uris as string[]) refuseInvisible('redirect_uris', u)

  const extra: Record<string, string> = {}
  for (const key of INFO_URLS) {
    const v = doc[key]
    if (v === undefined) continue
    if (typeof v !== 'string' || v.length > 2000 || !/^https:\/\/[^\s]+$/.test(v) || !URL.canParse(v)) throw new InvalidClientMetadata(`${key} must be an https URL`)
    extra[key] = v
  }
  for (const key of INFO_STRINGS) {
    const v = doc[key]
    if (v === undefined) continue
    if (typeof v !== 'string' || v.length > 200 || /[\u0000-\u001f\u007f]/.test(v)) throw new InvalidClientMetadata(`${key} must be a short string`)
    extra[key] = v
  }
  return {name, redirectUris: [...new Set(uris as string[])], authMethod, grantTypes: [...new Set(grantTypes as string[])], scopes, extra}
}

/**
 * A name or URI the consent page shows, with a control or format character in it (see
 * clients/visible-text.ts: bidi overrides, zero-width characters, ...): refused with
 * invalid_client_metadata (RFC 7591 §3.2.2; MCP security best practices, consent UI).
 */
export function refuseInvisible(member: string, value: string): void {
  const c = invisibleCharacter(value)
  if (c) throw new InvalidClientMetadata(`${member} contains the invisible or control character ${c}`)
}

/** The client record a self-described client (RFC 7591 registration, or a metadata document) becomes. */
export function registeredClientRecord(
  meta: ClientMetadata,
  {id, secretHash, authMethod, registration, createdAt}: {id: string; secretHash: string | null; authMethod: NewClient['authMethod']; registration: 'dynamic' | 'metadata_document'; createdAt: number},
): NewClient {
  return {
    id,
    name: meta.name,
    description: '',
    secretHash,
    authMethod,
    jwks: null,
    scopes: meta.scopes,
    grantTypes: meta.grantTypes,
    redirectUris: meta.redirectUris,
    accessTokenTtl: null,
    tokenRateLimit: null,
    mcpRateLimit: null,
    registration,
    metadata: meta.extra,
    createdAt,
  }
}
