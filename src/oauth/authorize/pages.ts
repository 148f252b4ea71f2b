import {randomBytes} from 'node:crypto'
import type {ServerResponse} from 'node:http'
import {NO_STORE} from '../../http/respond.js'

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"'`]/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;'})[c]!)

/**
 * Text a client chose, for a page: escaped, and with control and format characters (bidi
 * overrides and isolates, zero-width characters, line separators: Unicode Cc, Cf, Zl, Zp, lone
 * surrogates) shown as visible `<U+202E>` instead of acting. Registration refuses them
 * (client-metadata.ts); this also covers records stored before it did.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu
export const shown = (s: string) => escapeHtml(s.replace(INVISIBLE, (c) => `<U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}>`))

/**
 * Client text isolated from the page's own (Unicode bidi algorithm, UAX #9 §2.7; HTML `<bdi>`):
 * a right-to-left name, or neutral characters at its ends, cannot reorder the sentence around it.
 * Names take their direction from their first strong character; identifiers and URLs are LTR.
 */
export const isolated = (s: string, dir: 'auto' | 'ltr' = 'auto') => `<bdi dir="${dir}">${shown(s)}</bdi>`

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.4rem}code{background:#f2f2f2;padding:0 .25rem;word-break:break-all}.warn{background:#fff4d6;padding:.5rem .75rem;border-radius:4px}
.error{background:#fde2e1;padding:.5rem .75rem;border-radius:4px}ul{padding-left:1.2rem}label{display:block;margin:1rem 0 .25rem}
input[type=password],input[type=text]{width:100%;padding:.4rem;font-size:1rem}a.button{display:inline-block;padding:.5rem 1.25rem;border:1px solid #1a5fd0;border-radius:4px;color:#1a5fd0;text-decoration:none}.buttons{margin-top:1.5rem;display:flex;gap:.75rem}
button{font-size:1rem;padding:.5rem 1.25rem;cursor:pointer}button.approve{background:#1a5fd0;color:#fff;border:0;border-radius:4px}`

/**
 * Sends an HTML page of the authorization endpoint. Framing is refused (X-Frame-Options DENY
 * and CSP frame-ancestors 'none': clickjacking, RFC 9700 §4.16, MCP security best practices);
 * the only inline content is the style, allowed by a per-response nonce; nothing is cached.
 * The page's own URL (with state and the PKCE challenge) is never sent as a Referer elsewhere.
 */
export function sendPage(res: ServerResponse, status: number, title: string, body: (nonce: string) => string, headers: Record<string, string | string[]> = {}): void {
  const nonce = randomBytes(16).toString('base64')
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${shown(title)}</title><style nonce="${nonce}">${STYLE}</style></head><body>${body(nonce)}</body></html>`
  res.writeHead(status, {
    ...NO_STORE,
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Content-Security-Policy': `default-src 'none'; style-src 'nonce-${nonce}'; frame-ancestors 'none'; base-uri 'none'`,
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'same-origin',
    ...headers,
  })
  res.end(html)
}

export function errorPage(title: string, detail: string) {
  return () => `<h1>${shown(title)}</h1><p class="error">${shown(detail)}</p>
<p>Nothing was authorized. Go back to the application and start again; if this keeps happening, its setup is wrong.</p>`
}

export interface ConsentView {
  clientName: string
  clientId: string
  registration: 'cli' | 'dynamic' | 'metadata_document'
  redirectUri: string
  scopes: string[]
  requestId: string
  csrf: string
  /** Nobody is signed in with this browser session: the page asks who is approving. */
  needsPassword: boolean
  /** Whether password sign-in is offered (off when only upstream sign-in is configured). */
  passwords?: boolean
  /** The signed-in person, named on the page (issue 17). */
  userName?: string | undefined
  /** Upstream sign-in: the button's target and label. */
  upstream?: {url: string; label: string} | undefined
  error?: string | undefined
  action: string
}

/**
 * The consent page (MCP security best practices, "Consent UI Requirements"): names the client,
 * shows where the answer goes (the redirect host, in full; a warning for loopback, which any
 * local program could claim), lists the scopes; approve and deny, with the CSRF token.
 */
export function consentPage(v: ConsentView) {
  const target = new URL(v.redirectUri)
  const host = target.protocol === 'http:' || target.protocol === 'https:' ? target.host : `${target.protocol}//${target.host}`
  const loopback = target.protocol === 'http:'
  const origin = {
    cli: 'created with the gatehouse CLI',
    dynamic: 'registered itself with this server (its name is its own claim)',
    metadata_document: `described by the metadata document at ${isolated(v.clientId, 'ltr')}`,
  }[v.registration]
  const scopes = v.scopes.length ? v.scopes.map((s) => `<li><code>${isolated(s, 'ltr')}</code></li>`).join('') : '<li>(no scope)</li>'
  return () => `<h1>Allow ${isolated(v.clientName)} to use this MCP server?</h1>
${v.error ? `<p class="error">${escapeHtml(v.error)}</p>` : ''}
<p><strong>${isolated(v.clientName)}</strong> (<code>${isolated(v.clientId, 'ltr')}</code>), ${origin}, asks for:</p>
<ul>${scopes}</ul>
<p>If you approve, access is sent to <strong>${isolated(host, 'ltr')}</strong><br><code>${isolated(v.redirectUri, 'ltr')}</code></p>
${loopback ? '<p class="warn">This goes to a program on this computer (a loopback address). Approve only if you just started the connection from that program.</p>' : ''}
<form method="post" action="${escapeHtml(v.action)}">
<input type="hidden" name="request_id" value="${escapeHtml(v.requestId)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(v.csrf)}">
${v.userName !== undefined ? `<p class="who">Signed in as <strong>${isolated(v.userName)}</strong>. Approving gives this application access as you.</p>` : ''}
${v.needsPassword && v.passwords !== false ? `<label for="username">User name <small>(leave empty for the owner)</small></label><input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="64">
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" autofocus>` : ''}
<div class="buttons">${v.needsPassword && v.passwords === false ? '' : '<button class="approve" type="submit" name="decision" value="approve">Approve</button>'}
<button type="submit" name="decision" value="deny">Deny</button>${v.userName !== undefined ? '<button type="submit" name="decision" value="switch">Not you? Sign in as someone else</button>' : ''}</div>
</form>
${v.upstream ? `<p class="upstream"><a class="button" href="${escapeHtml(v.upstream.url)}">${shown(v.upstream.label)}</a></p>` : ''}`
}

export interface AccountView {
  action: string
  csrf: string
  error?: string | undefined
  user: {name: string; role: string} | undefined
  consents: Array<{clientId: string; clientName: string; subject: string; userName: string; scopes: string[]; createdAt: string}>
  /** Whether the password form is offered (off with --oidc-only). */
  passwords: boolean
  /** "Sign in with <provider>" (--oidc-issuer): the link and its text. */
  upstream?: {url: string; label: string} | undefined
}

/** The account page (issue 17): a login form, or the signed-in person's approvals with revoke buttons. */
export function accountPage(v: AccountView) {
  const form = (fields: string, button: string) =>
    `<form method="post" action="${escapeHtml(v.action)}"><input type="hidden" name="csrf_token" value="${escapeHtml(v.csrf)}">${fields}<div class="buttons">${button}</div></form>`
  if (!v.user) {
    return () => `<h1>Your approvals</h1>${v.error ? `<p class="error">${escapeHtml(v.error)}</p>` : ''}
${v.passwords ? form(
  '<input type="hidden" name="action" value="login"><label for="username">User name</label><input type="text" id="username" name="username" autocomplete="username" maxlength="64"><label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password">',
  '<button class="approve" type="submit">Sign in</button>',
) : ''}
${v.upstream ? `<p class="upstream"><a class="button" href="${escapeHtml(v.upstream.url)}">${escapeHtml(v.upstream.label)}</a></p>` : ''}`
  }
  const user = v.user
  const owner = user.role === 'owner'
  const rows = v.consents
    .map(
      (c) => `<li>${owner ? `<strong>${isolated(c.userName)}</strong>: ` : ''}${isolated(c.clientName)} (<code>${isolated(c.clientId, 'ltr')}</code>), ${c.scopes.map((s) => `<code>${isolated(s, 'ltr')}</code>`).join(' ') || '(no scope)'}, since ${escapeHtml(c.createdAt)} UTC
${form(`<input type="hidden" name="action" value="revoke"><input type="hidden" name="client_id" value="${escapeHtml(c.clientId)}"><input type="hidden" name="subject" value="${escapeHtml(c.subject)}">`, '<button type="submit" class="revoke">Revoke</button>')}</li>`,
    )
    .join('')
  return () => `<h1>Your approvals</h1>${v.error ? `<p class="error">${escapeHtml(v.error)}</p>` : ''}
<p class="who">Signed in as <strong>${isolated(user.name)}</strong> (${escapeHtml(user.role)}).${owner ? ' As an owner you see everyone\'s approvals.' : ''}</p>
${rows ? `<ul>${rows}</ul>` : '<p>No approvals.</p>'}`
}
