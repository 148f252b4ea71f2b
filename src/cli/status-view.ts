import type {ChalkInstance} from 'chalk'
import type {DaemonStatus} from '../daemon/daemon-control.js'
import type {ClientStatus} from '../daemon/status-report.js'

/** Client-controlled text (names, warning fields) with control and bidi characters made visible. */
const safe = (s: unknown) =>
  String(s).replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)

const duration = (s: unknown) => {
  const n = Number(s)
  if (!Number.isFinite(n)) return '-'
  if (n < 120) return `${n}s`
  if (n < 7200) return `${Math.round(n / 60)}m`
  if (n < 172_800) return `${Math.round(n / 3600)}h`
  return `${Math.round(n / 86_400)}d`
}
const mb = (b: number | null) => (b === null ? '-' : `${(b / 1048576).toFixed(1)} MB`)

/** `gatehouse status` for people. */
export function renderStatus(status: DaemonStatus, c: ChalkInstance): string[] {
  if (!status.running) return [`${c.red('●')} not running on ${status.data_dir}: ${status.reason}`]
  const s = status as Record<string, any>
  const lines = [
    `${c.green('●')} running  ${c.bold(String(s.url))}  pid ${s.pid}  version ${s.version}  up ${duration(s.uptime_seconds)}`,
    `  issuer   ${s.issuer}`,
  ]
  if (s.store) {
    const st = s.store as {kind: string; location: string; reachable?: boolean; since?: string; last_error?: string | null; last_error_at?: string | null}
    if (st.reachable === false) {
      lines.push(`  store    ${st.kind} ${st.location}  ${c.red(`UNREACHABLE since ${st.since}`)}`)
      lines.push(c.red(`    last error: ${safe(st.last_error ?? '-')}`))
    } else {
      lines.push(`  store    ${st.kind} ${st.location}${st.reachable ? `  reachable${st.since ? ` since ${st.since}` : ''}` : ''}`)
      if (st.last_error) lines.push(c.dim(`    last error ${st.last_error_at ?? ''}: ${safe(st.last_error)}`))
    }
  }
  if (s.node) lines.push(`  node     ${safe(s.node.id)}`)
  const others = ((s.nodes ?? []) as Array<{id: string; url: string; host: string; pid: number; version: string; seen_seconds_ago: number; self: boolean}>).filter((n) => !n.self)
  if (s.store?.reachable === false) lines.push(`  nodes    unknown while the store is unreachable`)
  if (s.nodes) lines.push(`  nodes    ${others.length === 0 ? 'no other live node' : `${others.length} other live node${others.length === 1 ? '' : 's'}`}`)
  for (const n of others) lines.push(`    ${safe(n.id)} ${safe(n.url)} on ${safe(n.host)} pid ${n.pid} version ${safe(n.version)}, seen ${n.seen_seconds_ago}s ago`)
  if (s.keys) lines.push(`  keys     ${s.keys.source === 'keychain' ? 'OS keychain' : `${s.keys.source} ${s.keys.location}`}; active key ${s.keys.active_kid ?? '-'}, ${typeof s.keys.active_key_age_seconds === 'number' ? `${duration(s.keys.active_key_age_seconds)} old` : 'age unknown (the store does not answer)'}`)
  if (s.users) lines.push(`  users    ${s.users.owner} owner${s.users.owner === 1 ? '' : 's'}, ${s.users.member} member${s.users.member === 1 ? '' : 's'}${s.users.disabled ? `, ${s.users.disabled} disabled` : ''}`)
  if (s.detail) lines.push(c.yellow(`  ${s.detail}`))
  const clients = (s.clients ?? []) as ClientStatus[]
  lines.push(`  sessions ${s.sessions ?? '-'}, children ${s.children ?? '-'}, clients seen ${clients.length}`)
  for (const cl of clients) {
    lines.push(`  ${c.bold(safe(cl.name ?? '(unknown)'))} ${c.dim(cl.client_id)}`)
    lines.push(`    sessions ${cl.sessions}; last 5 min: ${cl.requests_5m} requests, ${cl.errors_5m} errors; last used ${cl.last_used_at ?? 'never'}`)
    for (const ch of cl.children) lines.push(`    child pid ${ch.pid}, ${mb(ch.rss_bytes)}, up ${duration(ch.uptime_seconds)}`)
  }
  for (const ch of (s.shared_children ?? []) as Array<{pid: number; rss_bytes: number | null; uptime_seconds: number}>) lines.push(`  ${c.bold('shared')} child pid ${ch.pid}, ${mb(ch.rss_bytes)}, up ${duration(ch.uptime_seconds)}`)
  // --isolation user: one child per person, named by user (and id), not by client.
  for (const ch of (s.user_children ?? []) as Array<{user_id: string; user_name: string | null; pid: number; rss_bytes: number | null; uptime_seconds: number}>) {
    lines.push(`  user ${c.bold(safe(ch.user_name ?? '(removed)'))} ${c.dim(safe(ch.user_id))}`)
    lines.push(`    child pid ${ch.pid}, ${mb(ch.rss_bytes)}, up ${duration(ch.uptime_seconds)}`)
  }
  const a = s.audit as {pending: number; max_buffered: number; dropped: number; dropped_total: number; failing_since: string | null} | undefined
  if (a && (a.pending > 0 || a.dropped_total > 0 || a.failing_since)) {
    const line = `  audit    ${a.pending} event${a.pending === 1 ? '' : 's'} waiting to be written (bound ${a.max_buffered})${a.failing_since ? `, writes failing since ${a.failing_since}` : ''}; dropped ${a.dropped_total} since start${a.dropped > 0 ? ` (${a.dropped} not yet recorded)` : ''}`
    lines.push(a.failing_since || a.dropped > 0 ? c.yellow(line) : line)
  }
  const warnings = (s.warnings ?? []) as Array<{time: string; level: string; message: string}>
  if (warnings.length > 0) {
    lines.push(c.bold('  last warnings'))
    for (const w of warnings.slice(-10)) lines.push(`    ${w.time} ${w.level.toUpperCase()} ${safe(w.message)}`)
  }
  return lines
}
