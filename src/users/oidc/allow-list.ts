import {invalidInput} from '../../errors.js'

/** Who may sign in upstream (issue 17): e-mail addresses, e-mail domains, and claim=value pairs. */
export interface AllowList {
  emails: string[]
  domains: string[]
  claims: Array<{name: string; value: string}>
}

/** Parses `--oidc-allow-claim NAME=VALUE` entries; INVALID_INPUT for one without a name or `=`. */
export function parseClaimPairs(pairs: readonly string[]): AllowList['claims'] {
  return pairs.map((p) => {
    const eq = p.indexOf('=')
    if (eq <= 0) throw invalidInput(`--oidc-allow-claim must be NAME=VALUE (got ${JSON.stringify(p)})`)
    return {name: p.slice(0, eq), value: p.slice(eq + 1)}
  })
}

export const isEmpty = (a: AllowList) => a.emails.length === 0 && a.domains.length === 0 && a.claims.length === 0

/**
 * The claims the allow-list reads: `email` and `email_verified` for e-mail and domain entries, and
 * the name of each claim pair. With the spec's default, a provider puts the claims of the `email`
 * and `profile` scopes in the UserInfo response, not in the ID token (OIDC Core §5.4); the
 * relying party fetches UserInfo when one of these is missing (upstream-login.ts).
 */
export function neededClaims(list: AllowList): string[] {
  const names = new Set<string>()
  if (list.emails.length > 0 || list.domains.length > 0) names.add('email').add('email_verified')
  for (const {name} of list.claims) names.add(name)
  return [...names]
}

/** Of the claims the allow-list reads, those absent from `claims` (undefined or null). */
export function missingClaims(list: AllowList, claims: Record<string, unknown>): string[] {
  return neededClaims(list).filter((n) => claims[n] === undefined || claims[n] === null)
}

/**
 * Whether the upstream claims (the ID token's, completed from UserInfo) pass the allow-list: any one entry suffices. E-mail entries
 * count only for a verified address (`email_verified: true`, OIDC Core §5.1): an unverified
 * claim is whatever the account holder typed. E-mail comparison ignores case (the domain is
 * case-insensitive, RFC 5321 §2.4; providers lowercase local parts in practice). A claim pair
 * matches a string claim equal to the value, or an array claim (groups) containing it.
 */
export function allows(list: AllowList, claims: Record<string, unknown>): boolean {
  const email = typeof claims.email === 'string' && claims.email_verified === true ? claims.email.toLowerCase() : undefined
  if (email !== undefined) {
    if (list.emails.some((e) => e.toLowerCase() === email)) return true
    const domain = email.slice(email.lastIndexOf('@') + 1)
    if (email.includes('@') && list.domains.some((d) => d.toLowerCase().replace(/^@/, '') === domain)) return true
  }
  for (const {name, value} of list.claims) {
    const v = claims[name]
    if (v === value || (Array.isArray(v) && v.includes(value))) return true
  }
  return false
}
