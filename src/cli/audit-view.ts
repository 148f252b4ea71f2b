import type {ChalkInstance} from 'chalk'
import Table from 'cli-table3'
import type {AuditRecord} from '../store/types.js'
import {terminalCell, terminalText} from './terminal-text.js'

/** The JSON shape of an audit event (CONTRACT.md: at least time, client_id, event, method, name, outcome). */
export function auditJson(r: AuditRecord) {
  return {
    id: r.id,
    time: new Date(r.time).toISOString(),
    event: r.event,
    client_id: r.clientId,
    subject: r.subject ?? null,
    // The person's name when the request was theirs (issue 17); the id is `subject`.
    user: typeof r.detail?.user === 'string' ? r.detail.user : null,
    session_id: r.sessionId ?? null,
    method: r.method ?? null,
    name: r.name ?? null,
    outcome: r.outcome,
    duration_ms: r.durationMs ?? null,
    detail: r.detail ?? null,
  }
}

/** One row for people: every stored text escaped (terminal-text.ts); clients and children chose most of it. */
const cells = (r: AuditRecord, c: ChalkInstance) => [
  new Date(r.time).toISOString().replace('T', ' ').slice(0, 23),
  terminalText(r.event),
  terminalCell(r.clientId),
  terminalCell(r.method),
  terminalCell(r.name),
  r.outcome === 'ok' ? c.green(r.outcome) : c.red(terminalText(r.outcome)),
  r.durationMs === null || r.durationMs === undefined ? '-' : `${r.durationMs.toFixed(1)} ms`,
]

const HEAD = ['Time (UTC)', 'Event', 'Client', 'Method', 'Name', 'Outcome', 'Duration']

export function auditTable(rows: AuditRecord[], c: ChalkInstance): string {
  const table = new Table({head: HEAD.map((h) => c.bold(h)), style: {head: [], border: []}})
  for (const r of rows) table.push(cells(r, c))
  return table.toString()
}

/** One line per event, for --follow. */
export const auditLine = (r: AuditRecord, c: ChalkInstance) => cells(r, c).join('  ')
