import {deviceTokenId} from '../owner/device-token.js'
import type {OwnerLoginGuard} from '../owner/login-guard.js'
import {hashPassword, verifyPassword} from '../owner/password.js'
import type {Store, UserRecord} from '../store/types.js'

export type PasswordLoginResult =
  | {outcome: 'ok'; user: UserRecord; passwordHash: string; deviceId: string | undefined}
  /** Wrong name or password (one answer for both: no user enumeration). */
  | {outcome: 'wrong'}
  /**
   * The right password of a disabled user. Told only after the password was verified, so a wrong
   * password learns nothing about the name (the same answer and the same hash cost as an unknown one).
   */
  | {outcome: 'disabled'; user: UserRecord}
  | {outcome: 'limited'; retryAfter: number}
  /** The one-field form was used and no owner has a password (run gatehouse owner set-password). */
  | {outcome: 'no_owner'}

/**
 * A person's login with a name and password on the consent page (issue 17). An empty name is
 * the owner's one-field form of before: the primary owner. Every attempt goes through the
 * owner-login guard (src/owner/login-guard.ts: reserved before the hash, per session, address or
 * device, bounded hashes at once; RFC 9700 §4.10, NIST SP 800-63B §5.2.2), and an unknown name,
 * or a user without a password, costs the same scrypt as a real one (checked against a throwaway
 * hash), so timing does not tell which names exist. A disabled user's password is checked against
 * their own hash: only the right password is told 'disabled'. The device token is
 * per user: it is keyed by that user's password hash.
 */
export function createPasswordLogin({store, guard}: {store: Store; guard: OwnerLoginGuard}) {
  let decoy: Promise<string> | undefined
  const decoyHash = () => (decoy ??= hashPassword(`decoy-${Math.random().toString(36)}-${Date.now()}`))

  return async function login({name, password, sessionId, address, device}: {name: string; password: string; sessionId: string; address: string; device: string | undefined}): Promise<PasswordLoginResult> {
    let user: UserRecord | undefined
    if (name === '') {
      user = await store.users.primaryOwner()
      if (!user?.passwordHash) return {outcome: 'no_owner'}
    } else {
      user = await store.users.findByName(name.normalize('NFC'))
    }
    // A disabled user's own hash is checked too (same cost as any other), so the right password
    // can be told the account is disabled; a wrong one gets the one "wrong" answer.
    const hasPassword = user !== undefined && user.passwordHash !== null
    const usable = hasPassword && user!.disabledAt === null
    const hash = hasPassword ? user!.passwordHash! : await decoyHash()
    const deviceId = usable ? deviceTokenId(hash, device) : undefined
    const attempt = await guard.reserve({sessionId, address, deviceId})
    if ('retryAfter' in attempt) return {outcome: 'limited', retryAfter: attempt.retryAfter}
    let ok: boolean
    try {
      ok = await verifyPassword(password, hash)
    } finally {
      attempt.release()
    }
    if (!ok || !hasPassword) return {outcome: 'wrong'}
    if (!usable) return {outcome: 'disabled', user: user!}
    await attempt.refund()
    return {outcome: 'ok', user: user!, passwordHash: hash, deviceId}
  }
}

export type PasswordLogin = ReturnType<typeof createPasswordLogin>
