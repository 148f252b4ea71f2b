/**
 * The body of `gatehouse status --json` (and GET /status on the status socket): what the daemon
 * is, and what each client is doing. Built on demand from the running parts; reads only.
 *
 * Shape (times ISO 8601, durations in seconds, sizes in bytes):
 * {running: true, url, issuer, pid, version, started_at, uptime_seconds, data_dir,
 *  store: {kind: "sqlite"|"postgresql", location, reachable, since, last_error, last_error_at},
 *  node: {id}, nodes: [{id, url, host, pid, version,
 *  started_at, seen_seconds_ago, self}], keys: {source: "keychain"|"file", location, active_kid,
 *  active_key_age_seconds}, users: {owner, member, disabled} (enabled users by role, and the
 *  disabled), sessions, children,
 *  shared_children: [{pid, rss_bytes, uptime_seconds}] (--isolation shared; absent when none),
 *  user_children: [{user_id, user_name, pid, rss_bytes, uptime_seconds}] (--isolation user: one per
 *  person; absent when none),
 *  clients: [{client_id, name, sessions, children: [{pid, rss_bytes, uptime_seconds}],
 *             requests_5m, errors_5m, last_used_at}],
 *  audit: {pending, max_buffered, dropped, dropped_total, failing_since},
 *  warnings: [{time, level, message, fields}]}
 *
 * `audit`: events noted but not yet written (they wait in memory while the store is away, up to
 * `max_buffered`), `dropped` beyond that bound and not yet recorded as an `audit.dropped` event,
 * `dropped_total` since the daemon started (src/audit/audit-log.ts).
 * `store.reachable` is asked of the store when the report is built (bounded, store-health.ts);
 * `since` is when it entered that state, `last_error` the last failure in one line (no
 * credentials). While the store is unreachable nothing else is read from it: `nodes` and `users` are null,
 * the active key is the one in memory, client names are null, so the report answers at once.
 */
import type {AuditBacklog} from '../audit/audit-log.js'
import type {Clock} from '../clock.js'
import type {NodeRecord} from '../store/types.js'
import type {ActivityTracker} from './activity.js'
import {residentBytes} from './process-identity.js'
import type {RecentWarning} from './recent-warnings.js'
import type {RuntimeRecord} from './runtime-record.js'
import type {StoreHealth} from './store-health.js'

export interface StatusSources {
  record: RuntimeRecord
  clock: Clock
  /** The store, as `Store.describe()` names it: "sqlite /path" or "postgresql host:port/db" (no password). */
  store: string
  /** Whether the store answers (asked again when the report is built). */
  storeHealth: Pick<StoreHealth, 'check'>
  /** The kid that signs now, from memory: reported when the store cannot be asked. */
  activeKid(): string | null
  /** This daemon's node id. */
  node: string
  /** The nodes whose heartbeat is recent (this one included): src/daemon/heartbeat.ts. */
  nodes(): Promise<NodeRecord[]>
  keyStorage: {kind: 'keychain' | 'file' | 'database'; location: string}
  /** The signing keys, newest first (the active one has retiredAt null). */
  signingKeys(): Promise<Array<{kid: string; createdAt: number; retiredAt: number | null}>>
  /** A client's name and last use, if it exists. */
  client(id: string): Promise<{name: string; lastUsedAt: number | null} | undefined>
  gateway: {snapshot(): {sessions: Array<{clientId: string}>; children: Array<{pid: number; clientId: string | null; userId: string | null; startedAt: number}>}}
  activity: ActivityTracker
  /** The audit writer's backlog. */
  audit(): AuditBacklog
  warnings(): RecentWarning[]
  /** The people (src/users): their roles and whether they are disabled. */
  users(): Promise<Array<{id: string; name: string; role: string; disabledAt: number | null}>>
}

export interface ClientStatus {
  client_id: string
  name: string | null
  sessions: number
  children: Array<{pid: number; rss_bytes: number | null; uptime_seconds: number}>
  requests_5m: number
  errors_5m: number
  last_used_at: string | null
}

export async function buildStatusReport(src: StatusSources) {
  const now = src.clock.now()
  const seconds = (ms: number) => Math.max(0, Math.round(ms / 1000))
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
  const health = await src.storeHealth.check()
  const up = health.reachable
  const snap = src.gateway.snapshot()
  const activity = src.activity.snapshot()
  const ids = new Set<string>([...snap.sessions.map((s) => s.clientId), ...snap.children.flatMap((c) => (c.clientId ? [c.clientId] : [])), ...activity.keys()])
  const clients: ClientStatus[] = []
  for (const id of [...ids].sort()) {
    const stored = up ? await src.client(id).catch(() => undefined) : undefined
    const act = activity.get(id)
    const lastUsed = Math.max(stored?.lastUsedAt ?? 0, act?.lastRequestAt ?? 0)
    clients.push({
      client_id: id,
      name: stored?.name ?? null,
      sessions: snap.sessions.filter((s) => s.clientId === id).length,
      children: await Promise.all(
        snap.children.filter((c) => c.clientId === id).map(async (c) => ({pid: c.pid, rss_bytes: await residentBytes(c.pid), uptime_seconds: seconds(now - c.startedAt)})),
      ),
      requests_5m: act?.requests ?? 0,
      errors_5m: act?.errors ?? 0,
      last_used_at: lastUsed > 0 ? iso(lastUsed) : null,
    })
  }
  const shared = snap.children.filter((c) => c.clientId === null && c.userId === null)
  const people = snap.children.filter((c) => c.userId !== null)
  const keys = up ? await src.signingKeys().catch(() => null) : null
  const active = keys ? keys.find((k) => k.retiredAt === null) : undefined
  const allUsers = up ? await src.users().catch(() => null) : null
  const userName = new Map((allUsers ?? []).map((u) => [u.id, u.name]))
  const r = src.record
  return {
    running: true as const,
    url: r.url,
    issuer: r.issuer,
    pid: r.pid,
    version: r.version,
    started_at: r.started_at,
    uptime_seconds: seconds(now - Date.parse(r.started_at)),
    data_dir: r.data_dir,
    store: {
      kind: src.store.split(' ')[0],
      location: src.store.slice(src.store.indexOf(' ') + 1),
      reachable: health.reachable,
      since: iso(health.since),
      last_error: health.lastError,
      last_error_at: iso(health.lastErrorAt),
    },
    node: {id: src.node},
    nodes: (up ? await src.nodes().catch(() => null) : null)?.map((n) => ({
      id: n.id,
      url: n.url,
      host: n.host,
      pid: n.pid,
      version: n.version,
      started_at: iso(n.startedAt),
      seen_seconds_ago: seconds(now - n.seenAt),
      self: n.id === src.node,
    })) ?? null,
    keys: {
      source: src.keyStorage.kind,
      location: src.keyStorage.location,
      active_kid: active?.kid ?? src.activeKid(),
      active_key_age_seconds: active ? seconds(now - active.createdAt) : null,
    },
    users: allUsers
      ? {
          owner: allUsers.filter((u) => u.disabledAt === null && u.role === 'owner').length,
          member: allUsers.filter((u) => u.disabledAt === null && u.role === 'member').length,
          disabled: allUsers.filter((u) => u.disabledAt !== null).length,
        }
      : null,
    sessions: snap.sessions.length,
    children: snap.children.length,
    ...(shared.length > 0 ? {shared_children: await Promise.all(shared.map(async (c) => ({pid: c.pid, rss_bytes: await residentBytes(c.pid), uptime_seconds: seconds(now - c.startedAt)})))} : {}),
    ...(people.length > 0 ? {user_children: await Promise.all(people.map(async (c) => ({user_id: c.userId!, user_name: userName.get(c.userId!) ?? null, pid: c.pid, rss_bytes: await residentBytes(c.pid), uptime_seconds: seconds(now - c.startedAt)})))} : {}),
    clients,
    audit: (({pending, maxBuffered, dropped, droppedTotal, failingSince}) => ({
      pending,
      max_buffered: maxBuffered,
      dropped,
      dropped_total: droppedTotal,
      failing_since: failingSince === null ? null : iso(failingSince),
    }))(src.audit()),
    warnings: src.warnings(),
  }
}

export type StatusReport = Awaited<ReturnType<typeof buildStatusReport>>
