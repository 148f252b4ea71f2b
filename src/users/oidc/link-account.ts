import {adminEvent} from '../../audit/actor.js'
import type {Clock} from '../../clock.js'
import {StoreConflictError} from '../../store/errors.js'
import type {Store, UserRecord} from '../../store/types.js'
import {newUserId} from '../../store/user-id.js'

export type LinkOutcome =
  | {outcome: 'ok'; user: UserRecord; created: boolean}
  /** No local user has this upstream identity, and auto-create is off. */
  | {outcome: 'no_account'}
  | {outcome: 'disabled'; user: UserRecord}

/** A local user name from the upstream claims: preferred_username, else the e-mail's local part, else "user"; made unique with -2, -3, ... */
async function freeName(store: Store, claims: Record<string, unknown>): Promise<string> {
  const raw = typeof claims.preferred_username === 'string' ? claims.preferred_username : typeof claims.email === 'string' ? claims.email.split('@')[0]! : 'user'
  let base = raw.normalize('NFC').replace(/[^\p{L}\p{N}._@+-]/gu, '').replace(/^[._@+-]+/, '').slice(0, 56)
  if (base === '') base = 'user'
  for (let i = 1; i < 1000; i++) {
    const name = i === 1 ? base : `${base}-${i}`
    if (!(await store.users.findByName(name))) return name
  }
  return `user-${newUserId().slice(4, 16)}`
}

/**
 * The local user of an upstream identity (issue 17). The key is (iss, sub) and nothing else
 * (OIDC Core §5.7: "the sub (subject) and iss (issuer) Claims, used together, are the only Claims
 * that an RP can rely upon as a stable identifier"): an e-mail claim never finds or merges into a
 * local user, even one whose name is that address; a changed e-mail leaves the user as it was.
 * With `autoCreate`, a first sign-in makes a member without a password, the user and the link
 * in one transaction (two first sign-ins racing: one creates, the other finds it).
 */
export async function linkAccount({store, clock, issuer, claims, autoCreate}: {store: Store; clock: Clock; issuer: string; claims: Record<string, unknown>; autoCreate: boolean}): Promise<LinkOutcome> {
  const sub = String(claims.sub)
  const email = typeof claims.email === 'string' ? claims.email : null
  const found = async (): Promise<LinkOutcome | undefined> => {
    const identity = await store.users.findIdentity(issuer, sub)
    if (!identity) return undefined
    const user = await store.users.findById(identity.userId)
    if (!user) return {outcome: 'no_account'}
    if (user.disabledAt !== null) return {outcome: 'disabled', user}
    await store.users.touchIdentity(issuer, sub, email, clock.now())
    return {outcome: 'ok', user, created: false}
  }
  const existing = await found()
  if (existing) return existing
  if (!autoCreate) return {outcome: 'no_account'}
  const now = clock.now()
  const user: UserRecord = {id: newUserId(), name: await freeName(store, claims), role: 'member', passwordHash: null, createdAt: now, disabledAt: null}
  try {
    await store.users.insertWithIdentity(user, {issuer, subject: sub, userId: user.id, email, createdAt: now, lastLoginAt: now})
  } catch (error) {
    if (!(error instanceof StoreConflictError)) throw error
    return (await found()) ?? {outcome: 'no_account'}
  }
  // Made by the sign-in itself (--oidc-auto-create): the new person is their own actor.
  await store.audit.append([adminEvent({method: 'upstream sign-in', subject: user.id, name: user.name}, 'user.created', now, {detail: {user_id: user.id, user_name: user.name, role: user.role, password: false, issuer, upstream_subject: sub}})])
  return {outcome: 'ok', user, created: true}
}
