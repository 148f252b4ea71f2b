import type {Keyring} from '../oauth/keys/keyring.js'
import type {Store} from '../store/types.js'
import {NO_STORE, sendJson} from './respond.js'
import type {Handler} from './router.js'

/**
 * `GET /healthz` for a load balancer: 200 when the store answers a trivial query within
 * `timeoutMs` and a signing key is loaded, 503 otherwise. No authentication, and nothing in the
 * answer beyond that one bit (no versions, no store name, no error text).
 */
export function createHealthCheck({store, keyring, timeoutMs = 2000}: {store: Pick<Store, 'ping'>; keyring: Pick<Keyring, 'signer'>; timeoutMs?: number}): Handler {
  return async (_req, res) => {
    let timer: NodeJS.Timeout | undefined
    const healthy = await Promise.race([
      store.ping().then(
        () => Boolean(keyring.signer()),
        () => false,
      ),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ])
    clearTimeout(timer)
    sendJson(res, healthy ? 200 : 503, {status: healthy ? 'ok' : 'unavailable'}, NO_STORE)
  }
}
