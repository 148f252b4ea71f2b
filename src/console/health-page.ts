import type {ChildSnapshot} from '../gateway/gateway.js'
import type {StatusReport} from '../daemon/status-report.js'
import {age, bytes, escapeHtml, foreign, when} from './html.js'

export interface HealthView {
  report: StatusReport
  children: Array<ChildSnapshot & {rss: number | null; uptimeSeconds: number; clientName: string | null; userName: string | null}>
  keys: Array<{kid: string; alg: string; createdAt: number; retiredAt: number | null; verifyUntil: number | null; ageSeconds: number}>
  storeOk: boolean
}

/** Whom a child serves: a person (--isolation user), a client, or everyone (--isolation shared). */
function childLabel(c: HealthView['children'][number]): string {
  if (c.userId !== null) return `user ${foreign(c.userName ?? '(removed)')} <code>${foreign(c.userId, 'ltr')}</code>`
  if (c.clientId !== null) return `${foreign(c.clientName ?? c.clientId)} <code>${foreign(c.clientId, 'ltr')}</code>`
  return 'shared'
}

/** The Health page: the daemon, its child servers (with their last stderr lines), sessions, keys, store, warnings. */
export function healthPage(v: HealthView): string {
  const r = v.report
  const children = v.children.length
    ? v.children
        .map(
          (c) => `<article class="child"><h3>pid ${c.pid} · ${childLabel(c)}</h3>
<dl><dt>Uptime</dt><dd>${age(c.uptimeSeconds)}</dd><dt>Memory (RSS)</dt><dd>${bytes(c.rss)}</dd><dt>Restarts</dt><dd>${c.restarts}</dd></dl>
<details${c.stderr.length ? ' open' : ''}><summary>Last stderr lines (${c.stderr.length})</summary><pre class="stderr">${c.stderr.map((l) => `<span class="line">${foreign(l, 'ltr')}</span>`).join('') || '<span class="none">nothing yet</span>'}</pre></details></article>`,
        )
        .join('')
    : '<p class="none">No MCP server process is running (one starts with a client’s first session).</p>'
  const sessions = r.clients.filter((c) => c.sessions > 0)
  const sessionRows = sessions.length
    ? `<table><thead><tr><th>Client</th><th>Sessions</th><th>Requests, 5 min</th><th>Errors, 5 min</th></tr></thead><tbody>${sessions
        .map((c) => `<tr><td data-label="Client">${foreign(c.name ?? c.client_id)}<br><code>${foreign(c.client_id, 'ltr')}</code></td><td data-label="Sessions" class="num">${c.sessions}</td><td data-label="Requests, 5 min" class="num">${c.requests_5m}</td><td data-label="Errors, 5 min" class="num">${c.errors_5m}</td></tr>`)
        .join('')}</tbody></table>`
    : '<p class="none">No open MCP session.</p>'
  const keys = `<table><thead><tr><th>Key ID</th><th>Algorithm</th><th>State</th><th>Age</th></tr></thead><tbody>${v.keys
    .map(
      (k) => `<tr><td data-label="Key ID"><code>${foreign(k.kid, 'ltr')}</code></td><td data-label="Algorithm">${escapeHtml(k.alg)}</td>
<td data-label="State">${k.retiredAt === null ? '<strong>signing</strong>' : `retired ${when(k.retiredAt)}${k.verifyUntil ? `, verifies until ${when(k.verifyUntil)}` : ''}`}</td><td data-label="Age">${age(k.ageSeconds)}</td></tr>`,
    )
    .join('')}</tbody></table>`
  const warnings = r.warnings.length
    ? `<ul class="warnings">${[...r.warnings]
        .reverse()
        .map((w) => `<li class="${w.level}">${when(Date.parse(w.time))} <strong>${w.level}</strong> ${foreign(w.message)} ${Object.entries(w.fields).map(([k, val]) => `<code>${foreign(`${k}=${String(val)}`, 'ltr')}</code>`).join(' ')}</li>`)
        .join('')}</ul>`
    : '<p class="none">No warnings since the daemon started.</p>'
  return `<h1>Health</h1>
<dl class="daemon"><dt>Daemon</dt><dd>pid ${r.pid}, version ${escapeHtml(r.version)}, up ${age(r.uptime_seconds)}</dd>
<dt>Issuer</dt><dd><code>${foreign(r.issuer, 'ltr')}</code></dd>
<dt>Store</dt><dd>${escapeHtml(r.store.kind ?? "")} <code>${foreign(r.store.location, 'ltr')}</code> · <span class="${v.storeOk ? 'ok' : 'bad'}">${v.storeOk ? 'answering' : 'not answering'}</span></dd>
<dt>Keys kept in</dt><dd>${escapeHtml(r.keys.source)} <code>${foreign(r.keys.location, 'ltr')}</code></dd>
<dt>Sessions</dt><dd>${r.sessions}</dd><dt>Child servers</dt><dd>${r.children}</dd></dl>
<h2>Child servers</h2>${children}
<h2>Sessions per client</h2>${sessionRows}
<h2>Signing keys</h2>${keys}
<h2>Warnings</h2>${warnings}`
}
