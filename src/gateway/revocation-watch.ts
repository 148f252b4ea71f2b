/**
 * Revocation reaches open sessions and 2026 listeners (issue 11, item 15): a few times a second
 * every open session's latest principal, and every listener's, is checked with the verifier's
 * `revocation` (answered from memory unless the store changed). A revoked session ends with its
 * streams, its requests in flight are answered with an error, and a child left without sessions
 * is stopped at once (not in `shared` isolation, whose child serves everyone). A child no
 * session holds (one serving only 2026-07-28 requests) is judged on its latest caller's access.
 */
import type {Logger} from '../log.js'
import type {TokenVerifier} from '../principal/principal.js'
import type {ChildPool, Isolation} from './child-pool.js'
import type {Listener} from './modern/listen.js'
import type {Session} from './session.js'
import type {SessionTable} from './sessions.js'

export interface RevocationWatchDeps {
  verifier: TokenVerifier
  sessions: SessionTable
  listeners: ReadonlySet<Listener>
  children: ChildPool
  isolation: Isolation
  /** True once the gateway is closing: nothing is checked. */
  closing: () => boolean
  logger: Logger
}

/**
 * Returns `check()`: one pass over sessions and listeners, at most one at a time (a call while a
 * pass runs joins it); a failed pass is logged, never thrown.
 */
export function createRevocationWatch(deps: RevocationWatchDeps): () => Promise<void> {
  const {sessions, listeners, logger} = deps
  let checking: Promise<void> | undefined

  async function pass(): Promise<void> {
    const revocation = deps.verifier.revocation?.bind(deps.verifier)
    if (revocation === undefined || deps.closing() || (sessions.size === 0 && listeners.size === 0 && deps.children.running() === 0)) return
    const verdicts = new Map<string, Promise<string | undefined>>()
    const verdictOf = (p: Session['current']) => {
      let verdict = verdicts.get(p.tokenId)
      if (verdict === undefined) verdicts.set(p.tokenId, (verdict = revocation(p)))
      return verdict
    }
    // 2026 listen streams end like sessions when their token's access is withdrawn.
    for (const l of [...listeners]) {
      const why = await verdictOf(l.principal)
      if (why === undefined || l.ended) continue
      logger.info('subscriptions/listen ended: access revoked', {client_id: l.clientId, reason: why})
      l.end(false)
    }
    const ended: Session[] = []
    for (const s of sessions.all()) {
      const p = s.current
      const why = await verdictOf(p)
      // The session may have moved on to a newer token meanwhile; judge that one next time.
      if (why === undefined || s.closed || s.current !== p) continue
      logger.info('session ended: access revoked', {client_id: s.clientId, session: s.tag, reason: why})
      sessions.end(s)
      ended.push(s)
    }
    if (deps.isolation === 'shared') return
    for (const s of ended) deps.children.retireRevoked(s)
    await deps.children.retireUnattendedRevoked(verdictOf)
  }

  // A store that is away fails every pass (four a second): one warning when the failures start,
  // one line when checks work again, not a warning per pass.
  let failing = false
  return () => {
    checking ??= pass()
      .then(() => {
        if (!failing) return
        logger.info('revocation checks work again')
        failing = false
      })
      .catch((error: Error) => {
        if (!failing) logger.warn('revocation check failed; retrying quietly until it works', {error: error.message})
        else logger.debug('revocation check failed', {error: error.message})
        failing = true
      })
      .finally(() => (checking = undefined))
    return checking
  }
}
