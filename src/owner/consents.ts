import type {Clock} from '../clock.js'
import {pickByName} from '../clients/resolve-name.js'
import {GatehouseError} from '../errors.js'
import type {ConsentRecord, Store} from '../store/types.js'
import {decideConsentRevocation} from './consent-revocation.js'

export interface ConsentView extends ConsentRecord {
  clientName: string
  registration: string
}

/** The owner's remembered approvals: what `gatehouse consents list|revoke` call. */
export function createConsentAdmin({store, clock}: {store: Store; clock: Clock}) {
  return {
    async list({includeRevoked}: {includeRevoked: boolean}): Promise<ConsentView[]> {
      const consents = await store.consents.list({includeRevoked})
      const out: ConsentView[] = []
      for (const c of consents) {
        const client = await store.clients.findById(c.clientId)
        out.push({...c, clientName: client?.name ?? '(unknown)', registration: client?.registration ?? '-'})
      }
      return out
    },
    /**
     * Revokes every consent of a client (by id, or a name that one client with consents has),
     * and the grants made under them: their refresh tokens stop working at once and their access
     * tokens are refused by a running daemon on the next request.
     */
    async revoke(ref: string): Promise<{clientId: string; clientName: string; consents: number; grants: number}> {
      let client = await store.clients.findById(ref)
      if (!client) {
        const withConsent = new Set((await store.consents.list({includeRevoked: false})).map((c) => c.clientId))
        const named = (await store.clients.list({includeRevoked: true})).filter((c) => c.name === ref && withConsent.has(c.id))
        // Owner-created clients first: a registered one named alike never shadows them.
        client = pickByName(named, ref)
      }
      if (!client) throw new GatehouseError('NOT_FOUND', `no client with id or name ${JSON.stringify(ref)}`)
      const at = clock.now()
      const {consents, grants} = await store.consents.revokeWith(client.id, (view) => decideConsentRevocation(view, at))
      if (consents === 0 && grants === 0) throw new GatehouseError('NOT_FOUND', `client ${client.id} has no consent to revoke`)
      return {clientId: client.id, clientName: client.name, consents, grants}
    },
  }
}
