import {parseDuration} from '../config/duration.js'
import {invalidInput} from '../errors.js'
import {invisibleCharacter} from './visible-text.js'

/** Limits on what a client may be called and given; each is checked before anything is written. */
export const limits = {
  nameLength: 100,
  descriptionLength: 500,
  scopeLength: 128,
  scopes: 64,
  redirectUris: 20,
  redirectUriLength: 2000,
  /** Access token lifetime bounds, seconds. */
  minTokenTtl: 60,
  maxTokenTtl: 7 * 24 * 3600,
}

/** Why `text` may not be shown to the owner as is: a control or format character (visible-text.ts). */
function refuseInvisible(what: string, text: string): void {
  const c = invisibleCharacter(text)
  if (c) {
    throw invalidInput(
      `the ${what} contains the invisible or control character ${c}: control characters, bidi controls, zero-width and other format characters (Unicode Cc, Cf, Zl, Zp) are refused, as they can reverse or hide the text around them`,
    )
  }
}

/**
 * A client's name: trimmed, 1-100 characters, no control or format character (Unicode TR36 §2.3;
 * the same rule as registration, clients/visible-text.ts). Errors: INVALID_INPUT (exit 3).
 */
export function validateName(raw: string): string {
  const name = raw.trim()
  if (name.length === 0) throw invalidInput('the client name is empty')
  if (name.length > limits.nameLength) throw invalidInput(`the client name is longer than ${limits.nameLength} characters`)
  refuseInvisible('client name', name)
  return name
}

/** A client's description: trimmed, at most 500 characters, no control or format character. Errors: INVALID_INPUT. */
export function validateDescription(raw: string | undefined): string {
  const text = (raw ?? '').trim()
  if (text.length > limits.descriptionLength) {
    throw invalidInput(`the description is longer than ${limits.descriptionLength} characters`)
  }
  refuseInvisible('description', text)
  return text
}

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/

export function isScopeToken(s: string): boolean {
  return SCOPE_TOKEN.test(s) && s.length <= limits.scopeLength
}

/** Accepts repeated flags and space-separated lists alike; keeps order, drops duplicates. */
export function validateScopes(raw: readonly string[]): string[] {
  const scopes = [...new Set(raw.flatMap((s) => s.split(' ')).filter((s) => s !== ''))]
  for (const s of scopes) {
    if (!isScopeToken(s)) {
      throw invalidInput(
        `invalid scope ${JSON.stringify(s)}: a scope is 1-${limits.scopeLength} printable ASCII characters without spaces, quotes or backslashes (RFC 6749 §3.3)`,
      )
    }
  }
  if (scopes.length > limits.scopes) throw invalidInput(`more than ${limits.scopes} scopes`)
  return scopes
}

export const GRANT_TYPES = ['client_credentials', 'authorization_code', 'refresh_token'] as const
export type GrantType = (typeof GRANT_TYPES)[number]

export function validateGrantTypes(raw: readonly string[]): GrantType[] {
  const grants = [...new Set(raw)]
  for (const g of grants) {
    if (!(GRANT_TYPES as readonly string[]).includes(g)) {
      throw invalidInput(`unknown grant type ${JSON.stringify(g)}; expected one of ${GRANT_TYPES.join(', ')}`)
    }
  }
  if (grants.length === 0) throw invalidInput('at least one grant type is needed')
  if (grants.includes('refresh_token') && !grants.includes('authorization_code')) {
    throw invalidInput('refresh_token is only issued with authorization_code; add --grant-type authorization_code')
  }
  return grants as GrantType[]
}

/** An access token lifetime (e.g. 15m, 1h), in seconds, within the bounds above. */
export const parseTokenTtl = (raw: string): number =>
  parseDuration(raw, 'token lifetime', {min: limits.minTokenTtl, max: limits.maxTokenTtl})
