/**
 * Resource URIs as the policy sees them: one normal form per resource, so that a rule written
 * for `file:///private/*` holds for every spelling a server would read as the same resource
 * (issue 11, item 1).
 *
 * The form: parsed by the WHATWG URL parser (what the official SDK servers use: `new URL(uri)`),
 * then normalised per RFC 3986 §6.2.2: scheme and host in lower case (§6.2.2.1),
 * percent-encoded unreserved characters decoded (§6.2.2.2) and other percent-encodings in upper
 * case (§6.2.2.1), dot segments removed (§6.2.2.3, §5.2.4), and a `file` URI's `localhost`
 * authority written as the empty one (RFC 8089 §2). `{` and `}` stay literal, so that a URI
 * template (RFC 6570; completion/complete's ref/resource) keeps its shape.
 *
 * Refused, as ambiguous (a server could read them as another resource than the policy does):
 * anything the parser rejects; control, whitespace, format (Unicode Cf: bidi controls,
 * zero-width) and separator characters, raw or percent-encoded; a backslash (the WHATWG parser
 * reads it as `/` in some schemes and not in others); a percent-encoded `/`, `\`, `.` or `%`
 * before the query (decoded by one layer of a server and not another: `%2F` joins segments,
 * `%2E%2E` climbs, `%25xx` decodes twice; in a query or fragment they are data); a `%` not followed by two hex digits; empty path segments (`//`,
 * which a file system collapses); `.` or `..` left in an opaque path; user information
 * (`http://trusted@evil/`); a `file` URI naming a host other than localhost.
 */
export class ResourceUriError extends Error {
  override readonly name = 'ResourceUriError'
}

/** Longest URI looked at; beyond it the URI is refused (no rule needs more). */
export const MAX_URI_LENGTH = 8192

const UNRESERVED = /[A-Za-z0-9\-_~]/
// Cc: C0, DEL, C1. Cf: bidi controls, zero-width, BOM, soft hyphen. Zl/Zp: line and paragraph
// separators. Cs: lone surrogates. \s: every kind of space. And the backslash.
const REFUSED_CHARS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\s\\]/u

/**
 * The normal form of a resource URI (or URI template), for matching and for forwarding.
 * Throws ResourceUriError, whose message says why, for a URI that cannot be parsed or whose
 * normal form is ambiguous.
 */
export function normalizeResourceUri(raw: string): string {
  if (raw.length === 0) throw new ResourceUriError('the URI is empty')
  if (raw.length > MAX_URI_LENGTH) throw new ResourceUriError(`the URI is longer than ${MAX_URI_LENGTH} characters`)
  if (REFUSED_CHARS.test(raw)) throw new ResourceUriError('the URI holds a control, format, space or backslash character')
  const decoded = decodePercents(raw)
  let url: URL
  try {
    url = new URL(decoded)
  } catch {
    throw new ResourceUriError('the URI cannot be parsed')
  }
  if (url.username !== '' || url.password !== '') throw new ResourceUriError('the URI carries user information')
  if (url.protocol === 'file:' && url.host !== '') throw new ResourceUriError('a file URI must name no host, or localhost')
  const segments = url.pathname.split('/')
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!
    if (s === '.' || s === '..') throw new ResourceUriError('the URI has a dot segment that cannot be resolved')
    if (s === '' && i > 0 && i < segments.length - 1) throw new ResourceUriError('the URI has an empty path segment (//)')
  }
  let href = url.href
  // The WHATWG parser lower-cases the host of special schemes only (http, https, file, ws...).
  if (url.host !== '' && url.host !== url.host.toLowerCase()) {
    const prefix = `${url.protocol}//${url.host}`
    if (href.startsWith(prefix)) href = `${url.protocol}//${url.host.toLowerCase()}${href.slice(prefix.length)}`
  }
  // Percent-encodings the parser added are upper case already; keep braces literal.
  return href.replace(/%7B/g, '{').replace(/%7D/g, '}')
}

/**
 * Decodes percent-encoded unreserved characters, upper-cases the rest, and refuses the
 * encodings that are ambiguous (see the module comment).
 */
function decodePercents(raw: string): string {
  if (!raw.includes('%')) return raw
  // Where the path ends: in the query and fragment an encoded / . \ % is data, not structure.
  const q = raw.search(/[?#]/)
  const pathEnd = q < 0 ? raw.length : q
  let out = ''
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!
    if (ch !== '%') {
      out += ch
      continue
    }
    const hex = raw.slice(i + 1, i + 3)
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new ResourceUriError('the URI has a % not followed by two hex digits')
    const byte = parseInt(hex, 16)
    if (byte < 0x20 || byte === 0x7f) throw new ResourceUriError('the URI holds a percent-encoded control character')
    if (i < pathEnd && (byte === 0x2f || byte === 0x5c || byte === 0x2e || byte === 0x25)) {
      throw new ResourceUriError(`the URI holds a percent-encoded ${String.fromCharCode(byte)} (ambiguous)`)
    }
    const c = String.fromCharCode(byte)
    out += byte < 0x80 && UNRESERVED.test(c) ? c : `%${hex.toUpperCase()}`
    i += 2
  }
  return out
}

/**
 * A policy pattern for resources, in the same normal form as the URIs it is matched against:
 * scheme (and a literal authority) in lower case, `file://localhost/` as `file:///`, percent
 * encodings normalised as above, and non-ASCII characters percent-encoded in UTF-8, as the
 * parser writes them in a path. Glob characters are left alone.
 */
export function normalizeResourcePattern(pattern: string): string {
  let p = pattern
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(\/\/([^/?#*[\]\\]*))?/.exec(p)
  if (m) {
    const scheme = m[1]!.toLowerCase()
    let authority = m[3]?.toLowerCase()
    if (scheme === 'file' && authority === 'localhost') authority = ''
    p = `${scheme}:${authority === undefined ? '' : `//${authority}`}${p.slice(m[0].length)}`
  }
  p = p.replace(/%([0-9A-Fa-f]{2})/g, (all, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16))
    return UNRESERVED.test(c) ? c : `%${hex.toUpperCase()}`
  })
  return p.replace(/[^\x00-\x7f]+/gu, (s) => encodeURIComponent(s))
}
