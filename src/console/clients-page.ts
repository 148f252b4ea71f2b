import {clientSnippets} from '../cli/client-settings.js'
import type {ConsentView} from '../owner/consents.js'
import type {ClientRecord, RegistrationKind} from '../store/types.js'
import {csrfField, escapeHtml, foreign, when} from './html.js'
import type {Usage} from './usage.js'

const KINDS: Array<{kind: RegistrationKind; title: string; badge: string; note: string}> = [
  {kind: 'cli', title: 'Created by you', badge: 'owner-created', note: 'Made with oauth-generate-client or here.'},
  {kind: 'dynamic', title: 'Registered themselves', badge: 'registered', note: 'Dynamic client registration (RFC 7591): the name is the client’s own claim.'},
  {kind: 'metadata_document', title: 'Metadata documents', badge: 'metadata document', note: 'Described by the document at their client ID URL.'},
]

export interface ClientRow {
  client: ClientRecord
  sessions: number
  lastHour: Usage
  /** Latest use: the store's record or this daemon's own activity, whichever is later. */
  lastUsedAt: number | null
}

export interface ClientsView {
  base: string
  csrf: string
  rows: ClientRow[]
  consents: ConsentView[]
  showRevoked: boolean
  notice?: string | undefined
  error?: string | undefined
  /** What the create form held when it was refused. */
  form?: Record<string, string> | undefined
}

/** The Clients page: the three kinds of client apart, each with its use; the create form; consents. */
export function clientsPage(v: ClientsView): string {
  const sections = KINDS.map(({kind, title, badge, note}) => {
    const rows = v.rows.filter((r) => r.client.registration === kind)
    const body = rows.length
      ? rows
          .map(({client: c, sessions, lastHour, lastUsedAt}) => {
            const revoked = c.revokedAt !== null
            return `<tr${revoked ? ' class="revoked"' : ''}>
<td data-label="Name"><strong>${foreign(c.name)}</strong><span class="badge ${kind}">${badge}</span>${c.description ? `<br><small>${foreign(c.description)}</small>` : ''}</td>
<td data-label="Client ID"><code>${foreign(c.id, 'ltr')}</code></td>
<td data-label="Status">${revoked ? `revoked ${when(c.revokedAt)}${c.revokedReason ? `<br><small>${foreign(c.revokedReason)}</small>` : ''}` : 'active'}</td>
<td data-label="Last use">${when(lastUsedAt)}</td>
<td data-label="Sessions now" class="num">${sessions}</td>
<td data-label="Calls, 1 h" class="num">${lastHour.calls}</td>
<td data-label="Refusals, 1 h" class="num${lastHour.refusals ? ' bad' : ''}">${lastHour.refusals}</td>
<td data-label="">${revoked ? '' : `<a class="danger" href="${escapeHtml(`${v.base}/clients/revoke?${new URLSearchParams({client_id: c.id})}`)}">Revoke…</a>`} <a href="${escapeHtml(`${v.base}/activity?${new URLSearchParams({client: c.id})}`)}">Activity</a></td>
</tr>`
          })
          .join('')
      : `<tr><td colspan="8" class="none">None.</td></tr>`
    return `<section><h2>${title} <small>(${rows.length})</small></h2><p class="note">${note}</p>
<table class="clients"><thead><tr><th>Name</th><th>Client ID</th><th>Status</th><th>Last use</th><th>Sessions now</th><th>Calls, 1 h</th><th>Refusals, 1 h</th><th></th></tr></thead><tbody>${body}</tbody></table></section>`
  }).join('')

  const f = v.form ?? {}
  const grant = f.grant_type === 'authorization_code' ? 'authorization_code' : 'client_credentials'
  const create = `<section><h2>Create a client</h2>
<form method="post" action="${escapeHtml(`${v.base}/clients/create`)}" class="create">${csrfField(v.csrf)}
<label for="name">Name</label><input id="name" name="name" required maxlength="200" value="${escapeHtml(f.name ?? '')}">
<label for="description">Description <small>(optional)</small></label><input id="description" name="description" maxlength="1000" value="${escapeHtml(f.description ?? '')}">
<label for="scopes">Scopes <small>(space-separated; empty: mcp)</small></label><input id="scopes" name="scopes" maxlength="1000" value="${escapeHtml(f.scopes ?? '')}">
<label for="grant_type">Grant</label><select id="grant_type" name="grant_type"><option value="client_credentials"${grant === 'client_credentials' ? ' selected' : ''}>client credentials (an agent or script with a secret)</option><option value="authorization_code"${grant === 'authorization_code' ? ' selected' : ''}>authorization code (an app that asks you in the browser)</option></select>
<label for="redirect_uris">Redirect URIs <small>(authorization code only; one per line)</small></label><textarea id="redirect_uris" name="redirect_uris" rows="2" maxlength="4000">${escapeHtml(f.redirect_uris ?? '')}</textarea>
<button type="submit">Create client</button></form></section>`

  const consents = v.consents.length
    ? `<table class="consents"><thead><tr><th>Client</th><th>Person</th><th>Scopes</th><th>Approved</th><th></th></tr></thead><tbody>${v.consents
        .map(
          (c) => `<tr><td data-label="Client">${foreign(c.clientName)}<br><code>${foreign(c.clientId, 'ltr')}</code></td>
<td data-label="Person">${foreign(c.userName ?? c.subject)}</td>
<td data-label="Scopes">${c.scopes.map((s) => `<code>${foreign(s, 'ltr')}</code>`).join(' ') || '<span class="none">none</span>'}</td>
<td data-label="Approved">${when(c.createdAt)}</td>
<td data-label=""><a class="danger" href="${escapeHtml(`${v.base}/consents/revoke?${new URLSearchParams({client_id: c.clientId})}`)}">Revoke…</a></td></tr>`,
        )
        .join('')}</tbody></table>`
    : '<p class="none">No remembered approvals.</p>'

  return `<h1>Clients</h1>
${v.notice ? `<p class="notice" role="status">${escapeHtml(v.notice)}</p>` : ''}${v.error ? `<p class="error" role="alert">${foreign(v.error)}</p>` : ''}
<p><a href="${escapeHtml(`${v.base}/clients${v.showRevoked ? '' : '?all=1'}`)}">${v.showRevoked ? 'Hide revoked clients' : 'Show revoked clients too'}</a></p>
${sections}${create}<section><h2>Remembered approvals</h2><p class="note">Approvals people gave on the consent page, each for themselves. Revoking revokes every approval of that client and ends the grants made under them: their refresh tokens stop at once, their access tokens on their next use.</p>${consents}</section>`
}

/** The page shown once after a client is created: its secret, and the same paste-ready settings as the CLI. */
export function createdPage({base, issuer, client, secret}: {base: string; issuer: string; client: ClientRecord; secret: string | null}): string {
  const snippets = clientSnippets({issuer, client, secret})
    .map((s) => `<h3>${escapeHtml(s.title)}</h3><pre><code>${escapeHtml(s.lines.join('\n'))}</code></pre>`)
    .join('')
  return `<h1>Client created: ${foreign(client.name)}</h1>
<dl class="created"><dt>Client ID</dt><dd><code id="client-id">${escapeHtml(client.id)}</code></dd>
${secret ? `<dt>Client secret</dt><dd><code id="client-secret">${escapeHtml(secret)}</code></dd>` : ''}
<dt>Scopes</dt><dd>${client.scopes.map((s) => `<code>${foreign(s, 'ltr')}</code>`).join(' ')}</dd></dl>
${secret ? '<p class="warn">Copy the secret now: it is shown once, and only its hash is kept. If it is lost, revoke this client and create another.</p>' : ''}
<h2>Settings to paste</h2>${snippets}
<p><a href="${escapeHtml(`${base}/clients`)}">Back to the clients</a></p>`
}

/** A confirmation page for a destructive change: what goes, an optional reason, confirm or go back. */
export function confirmPage({base, csrf, action, clientId, title, detail, button, reason}: {base: string; csrf: string; action: string; clientId: string; title: string; detail: string; button: string; reason: boolean}): string {
  return `<h1>${title}</h1><p>${detail}</p>
<form method="post" action="${escapeHtml(action)}" class="confirm">${csrfField(csrf)}<input type="hidden" name="client_id" value="${escapeHtml(clientId)}">
${reason ? '<label for="reason">Reason <small>(kept in the audit trail)</small></label><input id="reason" name="reason" maxlength="500">' : ''}
<div class="buttons"><button type="submit" class="danger" name="confirm" value="yes">${escapeHtml(button)}</button> <a href="${escapeHtml(`${base}/clients`)}">Cancel</a></div></form>`
}
