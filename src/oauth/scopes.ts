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
