import {isScopeToken} from '../clients/validate.js'
import {InvalidScope} from './errors.js'

/**
 * The scopes to grant: those asked for, each of which the client must hold (RFC 6749 §3.3), or
 * all of the client's when none are asked for.
 */
export function grantedScopes(requested: string | undefined, allowed: readonly string[]): string[] {
  if (requested === undefined || requested.trim() === '') return [...allowed]
  const asked = [...new Set(requested.split(' ').filter((s) => s !== ''))]
  for (const s of asked) {
    if (!isScopeToken(s)) throw new InvalidScope(`malformed scope ${JSON.stringify(s)}`)
    if (!allowed.includes(s)) throw new InvalidScope(`the client may not have scope ${JSON.stringify(s)}`)
  }
  return asked
}

/**
 * The scopes of a client_credentials token (RFC 6749 §4.4.2, §3.3): the client is its own
 * resource owner, so the server grants what it asked for that it may have, and says so in the
 * response's `scope` ("the authorization server MAY fully or partially ignore the scope
 * requested"). MCP clients ask for every scope the metadata lists (MCP authorization §Scope
 * Selection Strategy: `scopes_supported`), the v2 SDK's ClientCredentialsProvider among them, so
 * refusing what a client may not have would shut out every client not allowed everything.
 * Nothing asked: all the client may have. A malformed scope, or nothing of what was asked that
 * the client may have: `invalid_scope`.
 */
export function clientCredentialsScopes(requested: string | undefined, allowed: readonly string[]): string[] {
  if (requested === undefined || requested.trim() === '') return [...allowed]
  const asked = [...new Set(requested.split(' ').filter((s) => s !== ''))]
  for (const s of asked) if (!isScopeToken(s)) throw new InvalidScope(`malformed scope ${JSON.stringify(s)}`)
  const granted = asked.filter((s) => allowed.includes(s))
  if (granted.length === 0) throw new InvalidScope(`the client may have none of the scopes asked for (it may have: ${allowed.join(' ') || 'none'})`)
  return granted
}

/**
 * The scope parameter of an authorization request without the scopes nobody here knows: RFC
 * 6749 §3.3 lets the server "fully or partially ignore the scope requested", and real clients ask
 * for scopes of their own (Claude: `claudeai`; many: `offline_access`). A scope is known when the
 * server offers it (`offered`, scopes_supported) or the client holds it; known ones are kept for
 * `grantedScopes`, so an offered scope the client may not have is still `invalid_scope`, as is a
 * malformed token. Returns undefined when nothing is left (then the client's default applies).
 */
export function withoutUnknownScopes(requested: string | undefined, {offered, held}: {offered: readonly string[]; held: readonly string[]}): string | undefined {
  if (requested === undefined) return undefined
  const kept = requested.split(' ').filter((s) => s !== '' && (!isScopeToken(s) || offered.includes(s) || held.includes(s)))
  return kept.length === 0 ? undefined : kept.join(' ')
}
