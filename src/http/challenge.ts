/**
 * `WWW-Authenticate: Bearer ...` values, built so that no text can break the header (issue 11,
 * item 4). A header value may hold only visible ASCII, space, tab and obs-text (RFC 9110 §5.5;
 * Node throws "Invalid character in header content" on anything else, which was a 500), and the
 * Bearer scheme's parameters are stricter still (RFC 6750 §3): `scope` and `error_description`
 * may hold %x20-21 / %x23-5B / %x5D-7E only: no quote, no backslash, nothing beyond ASCII.
 *
 * So each value is written as a quoted-string (RFC 9110 §5.6.4) whose every character outside
 * that set, a tool name's `中` or a client's `"` alike, is percent-encoded in UTF-8 (as a URI
 * would be): nothing is dropped silently, and the result is plain ASCII.
 */

/** A parameter value in the character set RFC 6750 §3 allows, outside characters percent-encoded. */
export function challengeValue(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/gu, (c) => encodeUtf8(c))
}

const encodeUtf8 = (c: string): string => {
  let out = ''
  // A lone surrogate has no UTF-8 form: Buffer writes U+FFFD for it.
  for (const b of Buffer.from(c, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`
  return out
}

/**
 * A Bearer challenge (RFC 6750 §3) with the given auth-params, in the given order; undefined
 * values are left out. Names are fixed by the caller (resource_metadata, error, scope, ...).
 */
export function bearerChallenge(params: Record<string, string | undefined>): string {
  const parts: string[] = []
  for (const [name, value] of Object.entries(params)) if (value !== undefined) parts.push(`${name}="${challengeValue(value)}"`)
  return parts.length === 0 ? 'Bearer' : `Bearer ${parts.join(', ')}`
}
