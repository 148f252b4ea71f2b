/**
 * The hot path's shortcut: most stdio servers (every one built on the official TypeScript SDK)
 * write a response as `{"result":...,"jsonrpc":"2.0","id":7}`: the id last, `jsonrpc` just before
 * it. When a child's line has exactly that shape, the gateway finds the id from the end of the
 * line and splices the client's id in, without parsing or re-serializing the result.
 *
 * Why the shortcut is safe, for a valid JSON text (the argument reads the line backwards):
 * 1. It ends with `"id":123}`. The final `}` closes the top-level object; `123` is a number
 *    value, so the `:` before it is outside any string and the string before it is a key. That
 *    key's closing quote is right before `:`, its content `id` holds no quote, and its opening
 *    quote follows `,` (checked below), which is not a backslash, so the quote is not escaped:
 *    the key is exactly "id", a member of the top-level object.
 * 2. The `,` before it is therefore structural, and what precedes it is the previous member of
 *    the same object: `"jsonrpc":"2.0"`. Its value is a string: its closing quote precedes the
 *    structural `,`; its content `2.0` holds no quote, and its opening quote follows `:` (not a
 *    backslash), so the value is exactly "2.0". By the argument of step 1 the key is exactly
 *    "jsonrpc", preceded by `,` or `{`, a member of the same top-level object (values of both
 *    members are primitives: no nesting in between). JSON.parse keeps the last of duplicate
 *    keys; so does this reading, as both members are the object's last.
 * 3. The first key is "result" (`{"result":` at the start). A valid JSON-RPC 2.0 message with a
 *    result is a response (JSON-RPC 2.0 §5), unless it also has a "method" (a request or
 *    notification must not carry a result) or an "error" (§5: not both). Such a member would
 *    need the text `"method"` or `"error"` outside a string (inside a string its quotes are
 *    escaped); a line holding either text anywhere takes the slow path, which validates
 *    (src/gateway/child-message.ts). A false positive (the text inside a value) only costs a parse.
 * So a line that passes is a JSON-RPC 2.0 success response with that numeric id, or not valid
 * JSON at all; the latter is the child's fault and reaches only the caller of that id (MCP
 * 2025-11-25 transports §stdio: stdout carries only valid messages). Lines that fail any check,
 * including log noise without `"jsonrpc":"2.0"`, take the slow path: parsed and validated, and
 * dropped (logged) unless they are a JSON-RPC 2.0 message (issue 11, item 16).
 */
export interface TrailingId {
  id: number
  /** Index in the line where the id's digits start. */
  at: number
}

const MAX_DIGITS = 15
const JSONRPC_MEMBER = '"jsonrpc":"2.0"'

/** The numeric top-level id at the very end of a compact JSON object line, if there is one. */
export function trailingId(line: string): TrailingId | undefined {
  const end = line.length - 1
  if (end < 8 || line.charCodeAt(end) !== 125 /* } */) return undefined
  let i = end - 1
  while (i >= 0) {
    const c = line.charCodeAt(i)
    if (c < 48 || c > 57) break
    i--
  }
  const digits = end - 1 - i
  if (digits === 0 || digits > MAX_DIGITS) return undefined
  // i is at the ':' of `"id":`
  if (i < 5 || line.charCodeAt(i) !== 58 || line.slice(i - 4, i) !== '"id"') return undefined
  const before = line.charCodeAt(i - 5)
  if (before !== 44 /* , */ && before !== 123 /* { */) return undefined
  if (digits > 1 && line.charCodeAt(i + 1) === 48) return undefined // leading zero: not our id
  return {id: Number(line.slice(i + 1, end)), at: i + 1}
}

/** True when the line's first key is "result": a success response. */
export const startsAsResult = (line: string): boolean => line.startsWith('{"result":')

/**
 * The id of a line that is, by the argument above, a JSON-RPC 2.0 success response written as
 * `{"result":…,"jsonrpc":"2.0","id":N}` with no "method" or "error" member; undefined for any
 * other line (which then takes the slow path).
 */
export function fastResponseId(line: string): TrailingId | undefined {
  if (!startsAsResult(line)) return undefined
  const tail = trailingId(line)
  if (tail === undefined) return undefined
  const comma = tail.at - 6 // the `,` before `"id":`
  const member = comma - JSONRPC_MEMBER.length
  if (line.charCodeAt(comma) !== 44 || !line.startsWith(JSONRPC_MEMBER, member)) return undefined
  const sep = line.charCodeAt(member - 1)
  if (sep !== 44 /* , */ && sep !== 123 /* { */) return undefined
  if (line.includes('"method"') || line.includes('"error"')) return undefined
  return tail
}

/** The line with its trailing id replaced by the given JSON-encoded id. */
export const replaceTrailingId = (line: string, at: number, idJson: string): string => line.slice(0, at) + idJson + '}'
