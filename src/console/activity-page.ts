import type {AuditRecord} from '../store/types.js'
import {escapeHtml, foreign, shown, when} from './html.js'

/** Events the filter offers (the trail may hold others; any exact name can be typed in the URL). */
export const KNOWN_EVENTS = ['mcp.request', 'token.issued', 'token.refused', 'token.revoked', 'client.created', 'client.revoked', 'keys.rotated']
export const KNOWN_OUTCOMES = ['ok', 'error', 'forbidden', 'rate_limited', 'invalid_client', 'invalid_grant', 'invalid_request', 'unauthorized_client', 'invalid_scope']

export interface ActivityFilter {
  client?: string | undefined
  event?: string | undefined
  outcome?: string | undefined
}

/** One audit row as the page and the live feed show it (the live script builds the same cells). */
export function auditRowJson(r: AuditRecord, names: ReadonlyMap<string, string>) {
  return {
    id: r.id,
    time: new Date(r.time).toISOString(),
    client_id: r.clientId,
    client_name: r.clientId === null ? null : (names.get(r.clientId) ?? null),
    event: r.event,
    method: r.method ?? null,
    name: r.name ?? null,
    outcome: r.outcome,
    duration_ms: r.durationMs ?? null,
  }
}

export type AuditRowJson = ReturnType<typeof auditRowJson>

/** A table row; every value escaped and isolated (html.ts `foreign`). */
export function auditRowHtml(r: AuditRowJson): string {
  return `<tr data-id="${r.id}" class="${r.outcome === 'ok' ? 'ok' : 'bad'}"><td data-label="Time">${when(Date.parse(r.time))}</td>
<td data-label="Client">${r.client_name !== null ? `${foreign(r.client_name)}<br>` : ''}<code>${foreign(r.client_id, 'ltr')}</code></td>
<td data-label="Event">${foreign(r.event, 'ltr')}</td><td data-label="Method">${foreign(r.method, 'ltr')}</td><td data-label="Name">${foreign(r.name)}</td>
<td data-label="Outcome">${foreign(r.outcome, 'ltr')}</td><td data-label="ms" class="num">${r.duration_ms === null ? '' : Math.round(r.duration_ms)}</td></tr>`
}

/** The Activity page: filters, the per-client charts, and the trail newest first (kept live by console.js). */
export function activityPage({base, filter, clients, rows, charts, feed}: {base: string; filter: ActivityFilter; clients: Array<{id: string; name: string}>; rows: AuditRowJson[]; charts: string; feed: string}): string {
  const option = (value: string, label: string, selected: boolean) => `<option value="${escapeHtml(value)}"${selected ? ' selected' : ''}>${shown(label.length > 120 ? `${label.slice(0, 120)}…` : label)}</option>`
  const clientOptions = [option('', 'all clients', !filter.client), ...clients.map((c) => option(c.id, `${c.name} (${c.id})`, filter.client === c.id))]
  if (filter.client && !clients.some((c) => c.id === filter.client)) clientOptions.push(option(filter.client, filter.client, true))
  const eventOptions = [option('', 'all events', !filter.event), ...KNOWN_EVENTS.map((e) => option(e, e, filter.event === e))]
  if (filter.event && !KNOWN_EVENTS.includes(filter.event)) eventOptions.push(option(filter.event, filter.event, true))
  const outcomeOptions = [option('', 'all outcomes', !filter.outcome), ...KNOWN_OUTCOMES.map((o) => option(o, o, filter.outcome === o))]
  if (filter.outcome && !KNOWN_OUTCOMES.includes(filter.outcome)) outcomeOptions.push(option(filter.outcome, filter.outcome, true))
  return `<h1>Activity</h1>
<form method="get" action="${escapeHtml(`${base}/activity`)}" class="filters">
<label>Client <select name="client">${clientOptions.join('')}</select></label>
<label>Event <select name="event">${eventOptions.join('')}</select></label>
<label>Outcome <select name="outcome">${outcomeOptions.join('')}</select></label>
<button type="submit">Filter</button></form>
${charts}
<h2>Audit trail <small class="live" id="live-state" data-state="off">live updates need JavaScript</small></h2>
<table class="audit" id="audit" data-feed="${escapeHtml(feed)}"><thead><tr><th>Time</th><th>Client</th><th>Event</th><th>Method</th><th>Name</th><th>Outcome</th><th>ms</th></tr></thead>
<tbody>${rows.map(auditRowHtml).join('')}</tbody></table>${rows.length === 0 ? '<p class="none" id="audit-empty">No events match.</p>' : ''}`
}
