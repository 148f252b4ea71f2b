import type {Store} from '../../store/types.js'
import {isUserId} from '../../store/user-id.js'

/**
 * Why a grant is revoked, as the `error_description` of an `invalid_grant` (RFC 6749 §5.2: "a
 * human-readable ASCII text providing additional information, used to assist the client
 * developer"): the person it belongs to was disabled or removed (`gatehouse users disable|remove`,
 * the console), else the general "was revoked". It names no user (the client learns only that its
 * person's account is off), and reads the grant and user as the store has them now.
 */
export async function revokedGrantReason(store: Store, grantId: string, general: string): Promise<string> {
  const grant = await store.grants.find(grantId)
  if (!grant || !isUserId(grant.subject)) return general
  const user = await store.users.findById(grant.subject)
  if (!user) return `${general}: the user it belongs to was removed`
  if (user.disabledAt !== null) return `${general}: the user it belongs to is disabled`
  return general
}
