import {adminEvent, type Actor} from '../audit/actor.js'
import type {Clock} from '../clock.js'
import {GatehouseError, invalidInput} from '../errors.js'
import {hashPassword} from '../owner/password.js'
import {StoreConflictError} from '../store/errors.js'
import type {Store, UserRecord, UserRole} from '../store/types.js'
import {newUserId} from '../store/user-id.js'
import {checkUserName} from './user-name.js'

export const USER_ROLES: readonly UserRole[] = ['owner', 'member']

/**
 * People, as `gatehouse users add|list|disable|enable|remove|link` and the console manage them
 * (issue 17). Every change is recorded here, once, as an audit event (`user.created`,
 * `user.disabled`, `user.enabled`, `user.removed`, `user.linked`) naming the `actor` the caller
 * passes: its `method` says where (cli, console), its `subject` who. Errors:
 * INVALID_INPUT (bad name, role or password), CONFLICT (the name is taken), NOT_FOUND (no such
 * user, or already disabled for `disable`).
 */
export function createUserAdmin({store, clock, newId = () => newUserId()}: {store: Store; clock: Clock; newId?: () => string}) {
  const record = (actor: Actor, event: string, user: UserRecord, detail: Record<string, unknown> = {}) =>
    store.audit.append([adminEvent(actor, event, clock.now(), {detail: {user_id: user.id, user_name: user.name, ...detail}})])
  /** The user with this name (or id); NOT_FOUND otherwise. */
  async function find(ref: string): Promise<UserRecord> {
    const user = (await store.users.findByName(ref)) ?? (ref.startsWith('usr_') ? await store.users.findById(ref) : undefined)
    if (!user) throw new GatehouseError('NOT_FOUND', `no user named ${JSON.stringify(ref)}`)
    return user
  }
  return {
    find,
    /** Adds a user; the password (when given) is checked against the policy and hashed with scrypt first. */
    async add({name, role = 'member', password}: {name: string; role?: string; password?: string | undefined}, actor: Actor): Promise<UserRecord> {
      const checked = checkUserName(name)
      if (!(USER_ROLES as readonly string[]).includes(role)) throw invalidInput(`invalid role ${JSON.stringify(role)}: owner or member`)
      if (await store.users.findByName(checked)) throw new GatehouseError('CONFLICT', `a user named ${JSON.stringify(checked)} already exists`)
      const user: UserRecord = {
        id: newId(),
        name: checked,
        role: role as UserRole,
        passwordHash: password === undefined ? null : await hashPassword(password),
        createdAt: clock.now(),
        disabledAt: null,
      }
      try {
        await store.users.insert(user)
      } catch (error) {
        // Two adds of one name racing: the store's unique index decides.
        if (error instanceof StoreConflictError) throw new GatehouseError('CONFLICT', `a user named ${JSON.stringify(checked)} already exists`)
        throw error
      }
      await record(actor, 'user.created', user, {role: user.role, password: user.passwordHash !== null})
      return user
    },
    list: () => store.users.list(),
    /**
     * Disables a user: they can no longer sign in, and their consents and grants (with every
     * refresh token) are revoked in one transaction. Running daemons hear it through the store's
     * change feed and refuse the user's access tokens on their next use.
     */
    async disable(ref: string, actor: Actor): Promise<{user: UserRecord; consents: number; grants: number}> {
      const user = await find(ref)
      if (user.disabledAt !== null) throw new GatehouseError('NOT_FOUND', `user ${JSON.stringify(user.name)} is already disabled`)
      const r = await store.users.disable(user.id, clock.now())
      if (!r) throw new GatehouseError('NOT_FOUND', `user ${JSON.stringify(user.name)} is already disabled`)
      await record(actor, 'user.disabled', user, {consents_revoked: r.consents, grants_revoked: r.grants})
      return {user, ...r}
    },
    /**
     * Enables a disabled user again: they may sign in, and must approve their clients anew (what
     * `disable` revoked stays revoked). NOT_FOUND when there is no such user or they are not disabled.
     */
    async enable(ref: string, actor: Actor): Promise<UserRecord> {
      const user = await find(ref)
      if (user.disabledAt === null || !(await store.users.enable(user.id))) throw new GatehouseError('NOT_FOUND', `user ${JSON.stringify(user.name)} is not disabled`)
      await record(actor, 'user.enabled', user)
      return {...user, disabledAt: null}
    },
    /**
     * Binds an upstream OpenID Connect identity (issuer + sub, OIDC Core §5.7) to a user, so they
     * can sign in upstream without --oidc-auto-create. CONFLICT when that identity is bound already.
     */
    async link(ref: string, {issuer, subject}: {issuer: string; subject: string}, actor: Actor): Promise<UserRecord> {
      const user = await find(ref)
      if (!/^https?:\/\/\S+$/.test(issuer)) throw invalidInput(`--issuer must be the provider's issuer URL (got ${JSON.stringify(issuer)})`)
      if (subject === '' || subject.length > 255) throw invalidInput('--subject must be the upstream sub claim (1 to 255 characters)')
      const bound = await store.users.findIdentity(issuer, subject)
      if (bound) throw new GatehouseError('CONFLICT', `that upstream identity already belongs to ${bound.userId === user.id ? user.name : 'another user'}`)
      try {
        await store.users.linkIdentity({issuer, subject, userId: user.id, email: null, createdAt: clock.now(), lastLoginAt: clock.now()})
      } catch (error) {
        if (error instanceof StoreConflictError) throw new GatehouseError('CONFLICT', 'that upstream identity is already linked')
        throw error
      }
      await record(actor, 'user.linked', user, {issuer, upstream_subject: subject})
      return user
    },
    /** Removes a user (revoking as `disable` does) and their upstream identities; the name becomes free. */
    async remove(ref: string, actor: Actor): Promise<{user: UserRecord; consents: number; grants: number}> {
      const user = await find(ref)
      const r = await store.users.remove(user.id, clock.now())
      if (!r) throw new GatehouseError('NOT_FOUND', `no user named ${JSON.stringify(ref)}`)
      await record(actor, 'user.removed', user, {consents_revoked: r.consents, grants_revoked: r.grants})
      return {user, ...r}
    },
  }
}

export type UserAdmin = ReturnType<typeof createUserAdmin>

/** The JSON shape of a user (`users list --json`): never a password hash. */
export function userJson(u: UserRecord) {
  return {
    id: u.id,
    name: u.name,
    role: u.role,
    password: u.passwordHash !== null,
    created_at: new Date(u.createdAt).toISOString(),
    disabled_at: u.disabledAt === null ? null : new Date(u.disabledAt).toISOString(),
    status: u.disabledAt === null ? 'active' : 'disabled',
  }
}
