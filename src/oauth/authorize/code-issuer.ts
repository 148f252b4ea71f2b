import {randomBytes} from 'node:crypto'
import type {Clock} from '../../clock.js'
import type {RandomBytes} from '../../clients/credentials.js'
import type {Store} from '../../store/types.js'
import {newAuthorizationCode, newGrantId, opaqueTokenHash} from '../grants/opaque-tokens.js'
import type {AuthorizationRequest} from './request.js'

/** OAuth 2.1 §4.1.2: codes are short-lived ("A maximum authorization code lifetime of 10 minutes is RECOMMENDED"). */
export const AUTHORIZATION_CODE_TTL_MS = 10 * 60_000
/** A grant (and every refresh token in it) ends this long after the owner approved it. */
export const GRANT_TTL_MS = 90 * 86_400_000

/**
 * Records an approved authorization: a grant (client, subject, scopes, resource) and a
 * single-use code bound to the redirect URI and the PKCE challenge. Returns the code.
 */
export function createCodeIssuer({store, clock, random = randomBytes, grantTtlMs = GRANT_TTL_MS}: {store: Store; clock: Clock; random?: RandomBytes; grantTtlMs?: number}) {
  return async function issueCode(request: AuthorizationRequest, subject: string): Promise<string> {
    const now = clock.now()
    const grantId = newGrantId(random)
    const code = newAuthorizationCode(random)
    // One transaction: a crash between the two writes must not leave a grant without its code.
    await store.grants.createWithCode(
      {
        id: grantId,
        clientId: request.client.id,
        subject,
        scopes: request.scopes,
        resource: request.resource,
        createdAt: now,
        expiresAt: now + grantTtlMs,
        revokedAt: null,
      },
      {
        hash: opaqueTokenHash(code),
        grantId,
        clientId: request.client.id,
        redirectUri: request.redirectUri,
        redirectUriGiven: request.redirectUriGiven,
        codeChallenge: request.codeChallenge,
        scopes: request.scopes,
        resource: request.resource,
        createdAt: now,
        expiresAt: now + AUTHORIZATION_CODE_TTL_MS,
      },
    )
    return code
  }
}

export type CodeIssuer = ReturnType<typeof createCodeIssuer>
