import {randomBytes} from 'node:crypto'
import type {ServerResponse} from 'node:http'
import {NO_STORE} from '../../http/respond.js'

const escapeHtml = (s: string) =>
  s.replace(/[&<>"'`]/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;'})[c]!)

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.4rem}code{background:#f2f2f2;padding:0 .25rem;word-break:break-all}.warn{background:#fff4d6;padding:.5rem .75rem;border-radius:4px}
.error{background:#fde2e1;padding:.5rem .75rem;border-radius:4px}ul{padding-left:1.2rem}label{display:block;margin:1rem 0 .25rem}
input[type=password]{width:100%;padding:.4rem;font-size:1rem}.buttons{margin-top:1.5rem;display:flex;gap:.75rem}
button{font-size:1rem;padding:.5rem 1.25rem;cursor:pointer}button.approve{background:#1a5fd0;color:#fff;border:0;border-radius:4px}`

/**
 * Sends an HTML page of the authorization endpoint. Framing is refused (X-Frame-Options DENY
 * and CSP frame-ancestors 'none': clickjacking, RFC 9700 §4.16, MCP security best practices);
 * the only inline content is the style, allowed by a per-response nonce; nothing is cached.
 * The page's own URL (with state and the PKCE challenge) is never sent as a Referer elsewhere.
 */
export function sendPage(res: ServerResponse, status: number, title: string, body: (nonce: string) => string, headers: Record<string, string> = {}): void {
  const nonce = randomBytes(16).toString('base64')
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style nonce="${nonce}">${STYLE}</style></head><body>${body(nonce)}</body></html>`
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
  return () => `<h1>${escapeHtml(title)}</h1><p class="error">${escapeHtml(detail)}</p>
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
  needsPassword: boolean
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
    metadata_document: `described by the metadata document at ${v.clientId}`,
  }[v.registration]
  const scopes = v.scopes.length ? v.scopes.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('') : '<li>(no scope)</li>'
  return () => `<h1>Allow ${escapeHtml(v.clientName)} to use this MCP server?</h1>
${v.error ? `<p class="error">${escapeHtml(v.error)}</p>` : ''}
<p><strong>${escapeHtml(v.clientName)}</strong> (<code>${escapeHtml(v.clientId)}</code>), ${escapeHtml(origin)}, asks for:</p>
<ul>${scopes}</ul>
<p>If you approve, access is sent to <strong>${escapeHtml(host)}</strong><br><code>${escapeHtml(v.redirectUri)}</code></p>
${loopback ? '<p class="warn">This goes to a program on this computer (a loopback address). Approve only if you just started the connection from that program.</p>' : ''}
<form method="post" action="${escapeHtml(v.action)}">
<input type="hidden" name="request_id" value="${escapeHtml(v.requestId)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(v.csrf)}">
${v.needsPassword ? '<label for="password">Owner password</label><input type="password" id="password" name="password" autocomplete="current-password" autofocus>' : ''}
<div class="buttons"><button class="approve" type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button></div>
</form>`
}
