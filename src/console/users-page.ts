import type {UserRecord} from '../store/types.js'
import {csrfField, escapeHtml, foreign, when} from './html.js'

/** One person on the Users page, with what hangs on them. */
export interface UserRow {
  user: UserRecord
  /** Upstream OpenID Connect identities (issuer + sub) linked to this user. */
  identities: number
  /** Clients this user has approved (active remembered consents: one per client). */
  consents: number
}

/**
 * The Users page (issue 17): every person with their role, status, sign-in methods and approved
 * clients; disable (through a confirmation page) and enable, each a POST with the session's CSRF
 * token. The signed-in owner cannot disable themselves here (they would lock themselves out).
 */
export function usersPage({base, csrf, me, rows, notice}: {base: string; csrf: string; me: string; rows: UserRow[]; notice?: string | undefined}): string {
  const body = rows.length
    ? rows
        .map(({user: u, identities, consents}) => {
          const disabled = u.disabledAt !== null
          const action = disabled
            ? `<form method="post" action="${escapeHtml(`${base}/users/enable`)}" class="inline">${csrfField(csrf)}<input type="hidden" name="user_id" value="${escapeHtml(u.id)}"><button type="submit">Enable</button></form>`
            : u.id === me
              ? '<small>you</small>'
              : `<a class="danger" href="${escapeHtml(`${base}/users/disable?${new URLSearchParams({user_id: u.id})}`)}">Disable…</a>`
          return `<tr${disabled ? ' class="revoked"' : ''} data-user="${escapeHtml(u.name)}">
<td data-label="Name"><strong>${foreign(u.name)}</strong><br><code>${foreign(u.id, 'ltr')}</code></td>
<td data-label="Role">${u.role}</td>
<td data-label="Status" class="status">${disabled ? `disabled ${when(u.disabledAt)}` : 'enabled'}</td>
<td data-label="Password">${u.passwordHash !== null ? 'yes' : 'no'}</td>
<td data-label="Upstream identities" class="num identities">${identities}</td>
<td data-label="Approved clients" class="num consents">${consents}</td>
<td data-label="Created">${when(u.createdAt)}</td>
<td data-label="">${action}</td></tr>`
        })
        .join('')
    : '<tr><td colspan="8" class="none">No users yet: add one with <code>gatehouse users add NAME</code>.</td></tr>'
  return `<h1>Users</h1>
${notice ? `<p class="notice" role="status">${foreign(notice)}</p>` : ''}
<p class="note">People who sign in on the consent page. Add and remove them with <code>gatehouse users add|remove</code>. Disabling someone revokes every approval and grant of theirs at once, in every daemon on this store; enabling lets them sign in again (they approve their clients anew).</p>
<table class="users"><thead><tr><th>Name</th><th>Role</th><th>Status</th><th>Password</th><th>Upstream identities</th><th>Approved clients</th><th>Created</th><th></th></tr></thead><tbody>${body}</tbody></table>`
}

/** The confirmation page before disabling a user. */
export function disableUserPage({base, csrf, user, consents}: {base: string; csrf: string; user: UserRecord; consents: number}): string {
  return `<h1>Disable ${foreign(user.name)}?</h1>
<p>${foreign(user.name)} (${user.role}) can no longer sign in; their ${consents} approval(s) and every grant made under them are revoked now: refresh tokens stop at once, access tokens are refused from their next use, and their MCP server child stops. You can enable them again later; they will then approve their clients anew.</p>
<form method="post" action="${escapeHtml(`${base}/users/disable`)}" class="confirm">${csrfField(csrf)}<input type="hidden" name="user_id" value="${escapeHtml(user.id)}">
<div class="buttons"><button type="submit" class="danger" name="confirm" value="yes">Disable ${foreign(user.name)}</button> <a href="${escapeHtml(`${base}/users`)}">Cancel</a></div></form>`
}
