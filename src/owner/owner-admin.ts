import {adminEvent, type Actor} from '../audit/actor.js'
import type {Clock} from '../clock.js'
import type {Store} from '../store/types.js'
import {hashPassword} from './password.js'

/** The owner's account: what `gatehouse owner set-password` calls. */
export function createOwnerAdmin({store, clock}: {store: Store; clock: Clock}) {
  return {
    /** Sets the first active owner's password (recorded as `owner.password_set` by `actor`; never the password or its hash). */
    async setPassword(password: string, actor: Actor): Promise<{replaced: boolean}> {
      const replaced = (await store.owner.passwordHash()) !== undefined
      const at = clock.now()
      await store.owner.setPasswordHash(await hashPassword(password), at)
      const owner = await store.users.primaryOwner()
      await store.audit.append([adminEvent(actor, 'owner.password_set', at, {detail: {user_id: owner?.id ?? null, user_name: owner?.name ?? null, replaced}})])
      return {replaced}
    },
    async hasPassword(): Promise<boolean> {
      return (await store.owner.passwordHash()) !== undefined
    },
  }
}
