/**
 * The body of `gatehouse status --json` (and GET /status on the status socket): what the daemon
 * is, and what each client is doing. Built on demand from the running parts; reads only.
 *
 * Shape (times ISO 8601, durations in seconds, sizes in bytes):
 * {running: true, url, issuer, pid, version, started_at, uptime_seconds, data_dir,
 *  store: {kind: "sqlite"|"postgresql", location}, node: {id}, nodes: [{id, url, host, pid, version,
 *  started_at, seen_seconds_ago, self}], keys: {source: "keychain"|"file", location, active_kid,
 *  active_key_age_seconds}, users: {owner, member, disabled} (enabled users by role, and the
 *  disabled), sessions, children,
 *  shared_children: [{pid, rss_bytes, uptime_seconds}] (--isolation shared; absent when none),
 *  user_children: [{user_id, user_name, pid, rss_bytes, uptime_seconds}] (--isolation user: one per
 *  person; absent when none),
 *  clients: [{client_id, name, sessions, children: [{pid, rss_bytes, uptime_seconds}],
 *             requests_5m, errors_5m, last_used_at}],
 *  warnings: [{time, level, message, fields}]}
 */
import type {Clock} from '../clock.js'
import type {NodeRecord} from '../store/types.js'
import type {ActivityTracker} from './activity.js'
import {residentBytes} from './process-identity.js'
import type {RecentWarning} from './recent-warnings.js'
import type {RuntimeRecord} from './runtime-record.js'

export interface StatusSources {
  record: RuntimeRecord
  clock: Clock
  /** The store, as `Store.describe()` names it: "sqlite /path" or "postgresql host:port/db" (no password). */
  store: string
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
  const snap = src.gateway.snapshot()
  const activity = src.activity.snapshot()
  const ids = new Set<string>([...snap.sessions.map((s) => s.clientId), ...snap.children.flatMap((c) => (c.clientId ? [c.clientId] : [])), ...activity.keys()])
  const clients: ClientStatus[] = []
  for (const id of [...ids].sort()) {
    const stored = await src.client(id)
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
  const allUsers = await src.users()
  const userName = new Map(allUsers.map((u) => [u.id, u.name]))
  const active = (await src.signingKeys()).find((k) => k.retiredAt === null)
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
    store: {kind: src.store.split(' ')[0], location: src.store.slice(src.store.indexOf(' ') + 1)},
    node: {id: src.node},
    nodes: (await src.nodes().catch(() => [])).map((n) => ({
      id: n.id,
      url: n.url,
      host: n.host,
      pid: n.pid,
      version: n.version,
      started_at: iso(n.startedAt),
      seen_seconds_ago: seconds(now - n.seenAt),
      self: n.id === src.node,
    })),
    keys: {
      source: src.keyStorage.kind,
      location: src.keyStorage.location,
      active_kid: active?.kid ?? null,
      active_key_age_seconds: active ? seconds(now - active.createdAt) : null,
    },
    users: {
      owner: allUsers.filter((u) => u.disabledAt === null && u.role === 'owner').length,
      member: allUsers.filter((u) => u.disabledAt === null && u.role === 'member').length,
      disabled: allUsers.filter((u) => u.disabledAt !== null).length,
    },
    sessions: snap.sessions.length,
    children: snap.children.length,
    ...(shared.length > 0 ? {shared_children: await Promise.all(shared.map(async (c) => ({pid: c.pid, rss_bytes: await residentBytes(c.pid), uptime_seconds: seconds(now - c.startedAt)})))} : {}),
    ...(people.length > 0 ? {user_children: await Promise.all(people.map(async (c) => ({user_id: c.userId!, user_name: userName.get(c.userId!) ?? null, pid: c.pid, rss_bytes: await residentBytes(c.pid), uptime_seconds: seconds(now - c.startedAt)})))} : {}),
    clients,
    warnings: src.warnings(),
  }
}

export type StatusReport = Awaited<ReturnType<typeof buildStatusReport>>
