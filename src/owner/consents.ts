import {adminEvent, type Actor} from '../audit/actor.js'
import type {Clock} from '../clock.js'
import {pickByName} from '../clients/resolve-name.js'
import {GatehouseError} from '../errors.js'
import type {ConsentRecord, Store, UserRecord} from '../store/types.js'
import {decideConsentRevocation} from './consent-revocation.js'

export interface ConsentView extends ConsentRecord {
  clientName: string
  registration: string
  /** The person who approved (null for a subject no user has any more). */
  userName: string | null
}

/**
 * Remembered approvals, per (user, client): what `gatehouse consents list|revoke` call, and what
 * a signed-in member sees of their own. `user` (a name or id) narrows to one person; without it,
 * everyone's (the owner's view). NOT_FOUND for an unknown user or client.
 */
export function createConsentAdmin({store, clock}: {store: Store; clock: Clock}) {
  async function person(ref: string | undefined): Promise<UserRecord | undefined> {
    if (ref === undefined) return undefined
    const user = (await store.users.findByName(ref)) ?? (await store.users.findById(ref))
    if (!user) throw new GatehouseError('NOT_FOUND', `no user named ${JSON.stringify(ref)}`)
    return user
  }
  return {
    async list({includeRevoked, user}: {includeRevoked: boolean; user?: string | undefined}): Promise<ConsentView[]> {
      const who = await person(user)
      const consents = await store.consents.list({includeRevoked, subject: who?.id})
      const names = new Map((await store.users.list()).map((u) => [u.id, u.name]))
      const out: ConsentView[] = []
      for (const c of consents) {
        const client = await store.clients.findById(c.clientId)
        out.push({...c, clientName: client?.name ?? '(unknown)', registration: client?.registration ?? '-', userName: names.get(c.subject) ?? null})
      }
      return out
    },
    /**
     * Revokes the consents of a client (by id, or a name that one client with consents has) and
     * the grants made under them, everyone's or one user's: their refresh tokens stop working at
     * once and their access tokens are refused by a running daemon on the next request. Recorded
     * as one `consent.revoked` audit event by `actor`.
     */
    async revoke(ref: string, {user}: {user?: string | undefined}, actor: Actor): Promise<{clientId: string; clientName: string; consents: number; grants: number}> {
      const who = await person(user)
      let client = await store.clients.findById(ref)
      if (!client) {
        const withConsent = new Set((await store.consents.list({includeRevoked: false, subject: who?.id})).map((c) => c.clientId))
        const named = (await store.clients.list({includeRevoked: true})).filter((c) => c.name === ref && withConsent.has(c.id))
        // Owner-created clients first: a registered one named alike never shadows them.
        client = pickByName(named, ref)
      }
      if (!client) throw new GatehouseError('NOT_FOUND', `no client with id or name ${JSON.stringify(ref)}`)
      const at = clock.now()
      const {consents, grants} = await store.consents.revokeWith(client.id, (view) => decideConsentRevocation(view, at, who?.id))
      if (consents === 0 && grants === 0) throw new GatehouseError('NOT_FOUND', `client ${client.id} has no consent to revoke${who ? ` for ${who.name}` : ''}`)
      await store.audit.append([consentRevokedEvent(actor, at, client.id, who?.id ?? null, {consents, grants})])
      return {clientId: client.id, clientName: client.name, consents, grants}
    },
  }
}

/**
 * The audit event of a withdrawn approval (`consent.revoked`): the client, whose approvals
 * (`user_id`, null for everyone's) and how many consents and grants went, by `actor` (cli,
 * console, account page). One event per revocation, written where it happens.
 */
export function consentRevokedEvent(actor: Actor, at: number, clientId: string, userId: string | null, r: {consents: number; grants: number}) {
  return adminEvent(actor, 'consent.revoked', at, {clientId, detail: {user_id: userId, consents_revoked: r.consents, grants_revoked: r.grants}})
}
