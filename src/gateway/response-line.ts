/**
 * The hot path's shortcut: most stdio servers (every one built on the official SDKs) write a
 * response as `{"result":...,"jsonrpc":"2.0","id":7}`: the id last. When a child's line has
 * that shape, the gateway finds the id from the end of the line and splices the client's id in,
 * without parsing or re-serializing the result.
 *
 * Why the shortcut is safe: if a valid JSON text ends with `,"id":123}` (or `{"id":123}`), the
 * final `}` closes the top-level object; `123` is a value, so the string before `:` is a key; the
 * quote opening it follows `,` or `{` (so it is not escaped) and `id` holds no quote, so that key
 * is exactly "id", at the top level. A line whose first key is "result" is a response (a request
 * or notification would need a "method" key, which a response must not have). Anything else
 * takes the slow path (JSON.parse), as does any line the child writes that is not valid JSON:
 * the caller parses lines it cannot take the shortcut for, and validity of the shortcut's lines
 * is the child's contract (MCP 2025-11-25 transports §stdio: stdout carries only valid messages).
 */
export interface TrailingId {
  id: number
  /** Index in the line where the id's digits start. */
  at: number
}

const MAX_DIGITS = 15

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

/** The line with its trailing id replaced by the given JSON-encoded id. */
export const replaceTrailingId = (line: string, at: number, idJson: string): string => line.slice(0, at) + idJson + '}'
