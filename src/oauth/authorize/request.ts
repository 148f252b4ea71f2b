import type {ClientRecord} from '../../store/types.js'
import {InvalidScope, InvalidTarget} from '../errors.js'
import type {ResourceResolver} from '../resource.js'
import {grantedScopes, withoutUnknownScopes} from '../scopes.js'
import {AuthorizePageError, AuthorizeRedirectError} from './errors.js'
import {codeChallengeProblem} from './pkce.js'
import {redirectUriMatches} from './redirect-match.js'

/** A validated authorization request, ready for the owner's decision. */
export interface AuthorizationRequest {
  client: ClientRecord
  redirectUri: string
  /** Whether redirect_uri was sent (then the token request must repeat it, OAuth 2.1 §4.1.3). */
  redirectUriGiven: boolean
  state: string | undefined
  scopes: string[]
  resource: string
  codeChallenge: string
}

/** The client of a request; `remoteAddress` (the requester's) is for budgets of clients created on first sight. */
export type ClientResolver = (clientId: string, context: {remoteAddress: string}) => Promise<ClientRecord>

const MAX_STATE = 2048

/**
 * Validates GET /oauth/authorize (OAuth 2.1 §4.1.1) in two stages. First the client and the
 * redirect URI: until both are known good nothing may be sent to the redirect URI, so failures
 * are an error page (RFC 6749 §4.1.2.1). Then everything else, whose failures go back to the
 * client as `error` redirects. Scopes the server does not offer (`supportedScopes`, its
 * scopes_supported) and the client does not hold are dropped (RFC 6749 §3.3); an offered scope
 * the client may not have is `invalid_scope`.
 */
export async function parseAuthorizationRequest(
  query: URLSearchParams,
  {resolveClient, resolveResource, supportedScopes, remoteAddress = ''}: {resolveClient: ClientResolver; resolveResource: ResourceResolver; supportedScopes?: (() => readonly string[]) | undefined; remoteAddress?: string},
): Promise<AuthorizationRequest> {
  const one = (key: string) => {
    const all = query.getAll(key)
    return {value: all[0], repeated: all.length > 1}
  }
  const clientId = one('client_id')
  if (clientId.repeated) throw new AuthorizePageError(400, 'Invalid request', 'client_id is repeated')
  if (!clientId.value) throw new AuthorizePageError(400, 'Invalid request', 'client_id is missing')
  const client = await resolveClient(clientId.value, {remoteAddress})

  const redirect = one('redirect_uri')
  if (redirect.repeated) throw new AuthorizePageError(400, 'Invalid redirect URI', 'redirect_uri is repeated')
  let redirectUri: string
  if (redirect.value === undefined) {
    // OAuth 2.1 §2.3.2: optional when exactly one is registered (and it needs no port).
    const only = client.redirectUris.length === 1 ? client.redirectUris[0]! : undefined
    if (!only) throw new AuthorizePageError(400, 'Invalid redirect URI', 'redirect_uri is required: this client registered several')
    redirectUri = only
  } else {
    if (!redirectUriMatches(redirect.value, client.redirectUris)) {
      throw new AuthorizePageError(400, 'Invalid redirect URI', `the redirect URI is not one registered for ${client.name}; nothing was sent to it`)
    }
    redirectUri = redirect.value
  }

  const state = one('state').value
  const fail = (code: string, description: string) =>
    new AuthorizeRedirectError(code, description, {redirectUri, state: state !== undefined && state.length <= MAX_STATE ? state : undefined, client})
  for (const key of new Set(query.keys())) {
    if (query.getAll(key).length > 1) throw fail('invalid_request', `parameter ${key} is repeated`)
  }
  if (state !== undefined && state.length > MAX_STATE) throw fail('invalid_request', `state is longer than ${MAX_STATE} characters`)
  const responseType = one('response_type').value
  if (responseType === undefined) throw fail('invalid_request', 'response_type is required')
  if (responseType !== 'code') throw fail('unsupported_response_type', 'only response_type=code is supported')
  if (!client.grantTypes.includes('authorization_code')) throw fail('unauthorized_client', 'this client may not use the authorization_code grant')
  const challenge = one('code_challenge').value
  const pkce = codeChallengeProblem(challenge, one('code_challenge_method').value)
  if (pkce) throw fail('invalid_request', pkce)

  let scopes: string[]
  let resource: string
  try {
    const asked = supportedScopes ? withoutUnknownScopes(one('scope').value, {offered: supportedScopes(), held: client.scopes}) : one('scope').value
    scopes = grantedScopes(asked, client.scopes)
    resource = resolveResource(one('resource').value)
  } catch (error) {
    if (error instanceof InvalidScope) throw fail('invalid_scope', error.message)
    if (error instanceof InvalidTarget) throw fail('invalid_target', error.message)
    throw error
  }
  return {client, redirectUri, redirectUriGiven: redirect.value !== undefined, state, scopes, resource, codeChallenge: challenge!}
}
