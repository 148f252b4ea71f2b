import {isScopeToken} from '../../clients/validate.js'
import {InvalidClientMetadata} from '../errors.js'

/**
 * The scopes a registering client gets (RFC 7591 §2 `scope`, §3.2.1: "the authorization server
 * MAY reject or replace any of the client's requested metadata values ... and the registration
 * response MUST contain what was registered"). Requested scopes this server offers are granted;
 * the rest (Claude's `claudeai`, `offline_access`, a scope of another server) are dropped rather
 * than refused, so the client can still connect; when nothing offered is left, the default.
 * Absent (or null, see `withoutNulls`): the default. Errors (invalid_client_metadata) only for
 * a value that is not a string of scope tokens at all: not a string, over 4096 characters, or a
 * token outside RFC 6749 §3.3's syntax.
 */
export function registeredScopes(scope: unknown, {supported, defaults}: {supported: readonly string[]; defaults: readonly string[]}): string[] {
  if (scope === undefined) return [...defaults]
  if (typeof scope !== 'string' || scope.length > 4096) throw new InvalidClientMetadata('scope must be a space-separated string')
  const asked = [...new Set(scope.split(' ').filter((s) => s !== ''))]
  const bad = asked.find((s) => !isScopeToken(s))
  if (bad !== undefined) throw new InvalidClientMetadata(`scope ${JSON.stringify(bad.slice(0, 100))} is not a valid scope token (RFC 6749 §3.3)`)
  const granted = asked.filter((s) => supported.includes(s))
  return granted.length > 0 ? granted : [...defaults]
}

/**
 * A registration document with every member whose value is JSON `null` removed: RFC 7591 §2
 * members are optional, and clients send `"logo_uri": null` for "none" as often as they omit it,
 * so null means absent for every member alike (required ones, redirect_uris, then fail as absent).
 */
export function withoutNulls(doc: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== null))
}
