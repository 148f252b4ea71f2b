import {invalidInput} from '../errors.js'
import {limits} from './validate.js'

/**
 * Which redirect URIs a client may register (OAuth 2.1 §2.3.1, RFC 8252 §7, RFC 9700 §4.1):
 * - https, with a host;
 * - http only to a loopback address (127.0.0.1, [::1], localhost), for native apps;
 * - a private-use scheme for native apps (`cursor://...`, `com.example.app:/cb`).
 * Never a fragment, userinfo, or a scheme that runs or embeds content.
 */
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:', 'about:', 'filesystem:', 'ws:', 'wss:', 'ftp:', 'mailto:', 'tel:'])
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost'])

export const isLoopbackHost = (hostname: string) => LOOPBACK_HOSTS.has(hostname)

/** Returns why the URI is not acceptable, or null when it is. */
export function redirectUriProblem(raw: string): string | null {
  if (raw.length > limits.redirectUriLength) return 'is too long'
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(raw)) return 'contains spaces or control characters'
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return 'is not an absolute URI'
  }
  if (raw.includes('#')) return 'has a fragment'
  if (url.username || url.password) return 'has userinfo'
  const scheme = url.protocol
  if (FORBIDDEN_SCHEMES.has(scheme)) return `uses the ${scheme.slice(0, -1)} scheme`
  if (scheme === 'https:') return url.hostname ? null : 'has no host'
  if (scheme === 'http:') return isLoopbackHost(url.hostname) ? null : 'uses http to a host that is not loopback (use https)'
  // A private-use scheme (RFC 8252 §7.1). Must look like a scheme, not like a Windows path.
  return /^[a-z][a-z0-9+.-]+:$/i.test(scheme) ? null : 'has an unusable scheme'
}

export function validateRedirectUris(raw: readonly string[]): string[] {
  const uris = [...new Set(raw)]
  if (uris.length > limits.redirectUris) throw invalidInput(`more than ${limits.redirectUris} redirect URIs`)
  for (const uri of uris) {
    const problem = redirectUriProblem(uri)
    if (problem) throw invalidInput(`redirect URI ${JSON.stringify(uri)} ${problem}`)
  }
  return uris
}
