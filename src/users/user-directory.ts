import {watchTopics} from '../store/changes.js'
import type {Store, UserRecord} from '../store/types.js'
import {LEGACY_OWNER_SUBJECT} from '../oauth/authorize/authorize-endpoint.js'

/** Who a token's subject is, as the gateway and the policy need it. */
export interface Person {
  id: string
  name: string
  role: UserRecord['role']
}

/**
 * The users, in memory for a lookup per request (like revoked-grants.ts), reloaded when the
 * store's change feed reports a change of users (this process, the CLI disabling someone,
 * another daemon on the same PostgreSQL). `find` answers an active user; a disabled or removed
 * one is undefined, so their tokens are refused from the next request.
 */
export async function loadUserDirectory({store}: {store: Store}) {
  let byId = new Map<string, UserRecord>()
  let primary: UserRecord | undefined
  const watch = watchTopics(store.changes, ['users'])
  const reload = async () => {
    watch.loading()
    try {
      const all = await store.users.list()
      byId = new Map(all.map((u) => [u.id, u]))
      primary = all.find((u) => u.role === 'owner' && u.disabledAt === null)
    } catch (error) {
      watch.invalidate()
      throw error
    }
  }
  await reload()
  return {
    /** The active user with this id (tokens issued before users existed say 'owner': the primary owner). */
    async find(id: string): Promise<Person | undefined> {
      if (watch.stale()) await reload()
      const u = id === LEGACY_OWNER_SUBJECT ? primary : byId.get(id)
      return u && u.disabledAt === null ? {id: u.id, name: u.name, role: u.role} : undefined
    },
    close: watch.close,
  }
}

export type UserDirectory = Awaited<ReturnType<typeof loadUserDirectory>>
