/**
 * The child's side of its callers' subscriptions: resource subscriptions of 2025 sessions
 * (`resources/subscribe`) and of 2026 listeners (`resourceSubscriptions`), held once at the
 * child however many callers hold them (reference counted; MCP 2026-07-28
 * basic-patterns-subscriptions), and for a 2026-07-28 child the gateway's own
 * `subscriptions/listen` on it, the only way such a child sends change notifications.
 */
import type {ChildCallers} from './child-callers.js'
import type {ChildLink} from './child-link.js'
import {childListenFilter} from './child-era.js'
import type {IdMap} from './id-map.js'
import type {ChangeListener} from './change-listener.js'
import type {Session} from './session.js'

/** One child's subscriptions on behalf of its callers (see the file comment). */
export class ChildSubscriptions {
  /** The gateway's listen on a 2026-07-28 child: its request id there, and the filter it carries. */
  private listenId: number | undefined
  private listenKey: string | undefined

  constructor(
    private readonly link: ChildLink,
    private readonly ids: IdMap,
    private readonly callers: ChildCallers,
  ) {}

  /** The id of the gateway's open listen on the child, if any (it never times out: not "in flight"). */
  get childListen(): number | undefined {
    return this.listenId
  }

  /** Whether a session (other than `except`) or a listener holds a subscription to `uri`. */
  held(uri: string, except?: Session): boolean {
    for (const s of this.callers.sessions) if (s !== except && s.subscriptions.has(uri)) return true
    for (const l of this.callers.listeners) if (l.uris.has(uri)) return true
    return false
  }

  /**
   * A `subscriptions/listen` stream starts receiving this child's change notifications. Its
   * resource subscriptions reach a 2025 child as `resources/subscribe`, once per URI.
   */
  addListener(listener: ChangeListener): void {
    if (this.link.era === 'legacy') for (const uri of listener.uris) if (!this.held(uri)) this.link.request('resources/subscribe', {uri})
    this.callers.addListener(listener)
    this.refresh()
  }

  removeListener(listener: ChangeListener): void {
    if (!this.callers.removeListener(listener)) return
    if (this.link.era === 'legacy') {
      for (const uri of listener.uris) if (!this.held(uri)) this.link.request('resources/unsubscribe', {uri})
    } else this.refresh()
  }

  /**
   * A session subscribes to or unsubscribes from `uri` (`method`: resources/subscribe or
   * resources/unsubscribe). True when the child need not hear of it (another caller holds the
   * URI, or a 2026-07-28 child gets it through the gateway's listen); false: forward the
   * session's request to the child.
   */
  sessionChange(session: Session, method: string, uri: string): boolean {
    const others = this.held(uri, session)
    if (method === 'resources/subscribe') session.subscriptions.add(uri)
    else session.subscriptions.delete(uri)
    if (this.link.era === 'modern') this.refresh()
    else if (!others) return false
    return true
  }

  /**
   * A 2026-07-28 child sends change notifications only on a subscriptions/listen stream
   * (basic-patterns-subscriptions; transports-stdio §Receiving Messages, 3), so the gateway
   * holds one on it: every change type the child supports (sessions get list_changed as a 2025
   * child would send them; listeners get what they opted into) and every resource URI a session
   * or listener holds. When that set changes the new listen is opened before the old one is
   * cancelled (a change may arrive twice, none is missed). Its request never times out.
   */
  refresh(): void {
    if (this.link.era !== 'modern' || this.link.dead || !this.link.running) return
    const uris = new Set<string>()
    for (const s of this.callers.sessions) for (const u of s.subscriptions) uris.add(u)
    for (const l of this.callers.listeners) for (const u of l.uris) uris.add(u)
    const filter = childListenFilter((this.link.initResult?.capabilities ?? {}) as Record<string, unknown>, [...uris].sort())
    const key = JSON.stringify(filter)
    if (key === this.listenKey) return
    this.listenKey = key
    const old = this.listenId
    this.listenId = undefined
    if (Object.keys(filter).length > 0) {
      let gid: number | undefined
      const ended = () => {
        if (this.listenId !== gid) return
        this.listenId = undefined
        this.listenKey = undefined
      }
      gid = this.link.request('subscriptions/listen', {notifications: filter, _meta: this.link.ownMeta()}, Infinity, ended)
      this.listenId = gid
    }
    if (old !== undefined && this.ids.take(old)) this.link.cancel(old, 'the subscriptions changed')
  }
}
