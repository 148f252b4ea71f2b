import type {ConsentRevocationView, ConsentWrite} from '../store/types.js'

export interface ConsentRevocationOutcome {
  /** Consents revoked. */
  consents: number
  /** Grants revoked with them (each with its codes and refresh tokens). */
  grants: number
}

/**
 * The consent-revocation rule, decided inside the store's transaction
 * (ConsentRepository.revokeWith): withdrawing a client's consent withdraws every authorization
 * still live that was given to it, so its refresh tokens stop at once and its access tokens are
 * refused by every node (the grant ids reach them through the change feed). An approval is a
 * grant made under a consent (RFC 6749 §4.1: the owner's authorization); a grant made by
 * auto-approve has no remembered consent but is withdrawn the same way, since revoking "this
 * client's access" must leave none. With `subject`, only that person's consents and grants.
 * Pure: facts in, writes out.
 */
export function decideConsentRevocation(view: ConsentRevocationView, at: number, subject?: string): {writes: ConsentWrite[]; result: ConsentRevocationOutcome} {
  // One person's (a member revoking their own approval), or everyone's (the owner) when absent.
  const consents = subject === undefined ? view.consents : view.consents.filter((c) => c.subject === subject)
  const grants = subject === undefined ? view.grants : view.grants.filter((g) => g.subject === subject)
  const writes: ConsentWrite[] = [
    ...consents.map((c): ConsentWrite => ({op: 'revoke_consent', clientId: c.clientId, subject: c.subject, scopes: c.scopes, at})),
    ...grants.map((g): ConsentWrite => ({op: 'revoke_grant', grantId: g.id, at, reason: 'consent revoked'})),
  ]
  return {writes, result: {consents: consents.length, grants: grants.length}}
}
