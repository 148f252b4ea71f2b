import type {ServerResponse} from 'node:http'
import {escapeHtml, isolated, shown} from '../oauth/authorize/pages.js'
import {NO_STORE} from '../http/respond.js'

/** Escaped, with control and format characters made visible; for places where <bdi> cannot go (option labels, titles). */
export {escapeHtml, shown}

/**
 * Text that came from a client or a child (names, ids, tool names, stderr lines), for HTML:
 * escaped, control and format characters (bidi overrides, zero-width, line separators) shown as
 * visible `<U+202E>` instead of acting, and isolated in `<bdi>` (UAX #9 §2.7) so it cannot
 * reorder the page around it. The stylesheet breaks long runs (overflow-wrap: anywhere).
 */
export const foreign = (s: string | null | undefined, dir: 'auto' | 'ltr' = 'auto') => (s === null || s === undefined || s === '' ? '<span class="none">–</span>' : isolated(s, dir))

/** The console's Content-Security-Policy: nothing inline, everything from the daemon itself. */
export const CONSOLE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

/** Headers of every console page: no framing (X-Frame-Options and frame-ancestors), no caching, no inline code. */
export const PAGE_HEADERS = {
  ...NO_STORE,
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
}

export type Tab = 'clients' | 'users' | 'activity' | 'health'

/** The page around a console view: navigation, who is signed in, the logout form (with its CSRF token), the assets. */
export function layout({base, title, tab, csrf, body, who}: {base: string; title: string; tab: Tab | null; csrf: string | null; body: string; who?: string | undefined}): string {
  const link = (t: Tab, label: string) => `<a href="${escapeHtml(`${base}/${t}`)}"${tab === t ? ' aria-current="page"' : ''}>${label}</a>`
  const nav =
    tab === null
      ? ''
      : `<nav>${link('clients', 'Clients')}${link('users', 'Users')}${link('activity', 'Activity')}${link('health', 'Health')}
${who ? `<span class="who">${foreign(who)}</span>` : ''}<form method="post" action="${escapeHtml(`${base}/logout`)}" class="logout"><input type="hidden" name="csrf_token" value="${escapeHtml(csrf ?? '')}"><button type="submit">Log out</button></form></nav>`
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} · Gatehouse</title><link rel="stylesheet" href="${escapeHtml(`${base}/assets/console.css`)}">
<script src="${escapeHtml(`${base}/assets/console.js`)}" defer></script></head>
<body><header><span class="brand">Gatehouse</span>${nav}</header><main>${body}</main></body></html>`
}

/** Sends a console page with its security headers. */
export function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, {...PAGE_HEADERS, 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html), ...headers})
  res.end(html)
}

/** A hidden CSRF field for a form of the console. */
export const csrfField = (csrf: string) => `<input type="hidden" name="csrf_token" value="${escapeHtml(csrf)}">`

/** ISO time, shown as UTC to the minute, with the full time in a title. */
export function when(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '<span class="none">never</span>'
  const iso = new Date(ms).toISOString()
  return `<time datetime="${iso}" title="${iso}">${iso.slice(0, 16).replace('T', ' ')}</time>`
}

/** A duration in seconds, for people: 42 s, 5 min, 3 h, 2 d. */
export function age(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`
  return `${Math.round(seconds / 86_400)} d`
}

export function bytes(n: number | null): string {
  if (n === null) return '<span class="none">?</span>'
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${Math.round(n / 1024)} KiB`
}
