import type {Clock} from '../clock.js'
import type {Store} from '../store/types.js'
import {hashPassword} from './password.js'

/** The owner's account: what `gatehouse owner set-password` calls. */
export function createOwnerAdmin({store, clock}: {store: Store; clock: Clock}) {
  return {
    async setPassword(password: string): Promise<{replaced: boolean}> {
      const replaced = (await store.owner.passwordHash()) !== undefined
      await store.owner.setPasswordHash(await hashPassword(password), clock.now())
      return {replaced}
    },
    async hasPassword(): Promise<boolean> {
      return (await store.owner.passwordHash()) !== undefined
    },
  }
}
