/**
 * What can still be known of a line from the child that exceeded the line limit and was dropped
 * unread (src/gateway/framing.ts keeps only its first and last bytes): its top-level members with
 * primitive values, read from the head forwards and from the tail backwards. If they show a
 * JSON-RPC 2.0 response (`"jsonrpc":"2.0"`, a `result` or `error`, no `method`) with an id, the
 * request it answered fails at once instead of at its timeout, whichever end of the line holds
 * the id (the TypeScript SDK writes `{"result":…,"jsonrpc":"2.0","id":9}`, others
 * `{"jsonrpc":"2.0","id":9,"result":…}`). JSON-RPC 2.0 §5; MCP 2025-11-25 transports §stdio.
 */
type Primitive = string | number | boolean | null

/** Top-level members seen: primitive values as parsed, `undefined` for an object or array value. */
export type Members = Map<string, Primitive | undefined>

/** The id of the response a dropped line was, or undefined when it cannot be told for sure. */
export function oversizedResponseId(head: string, tail: string): number | string | undefined {
  const front = headMembers(head)
  const back = tailMembers(tail)
  // The tail is later in the line: for a key in both, it is the one JSON.parse would keep.
  const get = (k: string) => (back.has(k) ? back.get(k) : front.get(k))
  const seen = (k: string) => front.has(k) || back.has(k)
  if (get('jsonrpc') !== '2.0' || seen('method') || !(seen('result') || seen('error'))) return undefined
  const ids = [front.get('id'), back.get('id')].filter((v) => v !== undefined)
  if (ids.length === 0 || (ids.length === 2 && ids[0] !== ids[1])) return undefined
  const id = ids[0]
  return typeof id === 'number' || typeof id === 'string' ? id : undefined
}

const WS = /[ \t\r\n]/

/**
 * Reads the top-level members of a JSON object text from its start, stopping where the text is
 * cut. A value cut by the end of the head is not reported (a number `12` might be `123`).
 */
export function headMembers(text: string): Members {
  const out: Members = new Map()
  let i = 0
  const ws = () => {
    while (i < text.length && WS.test(text[i]!)) i++
  }
  /** The end (exclusive) of the string token starting at `from`, or -1 when cut. */
  const stringEnd = (from: number): number => {
    for (let j = from + 1; j < text.length; j++) {
      const c = text[j]
      if (c === '\\') j++
      else if (c === '"') return j + 1
    }
    return -1
  }
  ws()
  if (text[i] !== '{') return out
  i++
  for (;;) {
    ws()
    if (text[i] !== '"') return out
    const keyEnd = stringEnd(i)
    if (keyEnd < 0) return out
    let key: string
    try {
      key = JSON.parse(text.slice(i, keyEnd)) as string
    } catch {
      return out
    }
    i = keyEnd
    ws()
    if (text[i] !== ':') return out
    i++
    ws()
    const c = text[i]
    if (c === undefined) return out
    if (c === '{' || c === '[') {
      out.set(key, undefined)
      // Skip the nested value; a cut inside it ends the reading.
      let depth = 0
      for (; i < text.length; i++) {
        const d = text[i]
        if (d === '"') {
          const e = stringEnd(i)
          if (e < 0) return out
          i = e - 1
        } else if (d === '{' || d === '[') depth++
        else if (d === '}' || d === ']') {
          depth--
          if (depth === 0) break
        }
      }
      if (i >= text.length) return out
      i++
    } else {
      let end: number
      if (c === '"') end = stringEnd(i)
      else {
        end = i
        while (end < text.length && /[-+.0-9eEtrufalsn]/.test(text[end]!)) end++
        if (end >= text.length) end = -1 // cut: the token may go on
      }
      if (end < 0) return out
      try {
        out.set(key, JSON.parse(text.slice(i, end)) as Primitive)
      } catch {
        return out
      }
      i = end
    }
    ws()
    if (text[i] !== ',') return out
    i++
  }
}

/** One member at the very end: `,"key":value` or `{"key":value` (before the final `}` or the previous match). */
const LAST_MEMBER = /([,{])"([A-Za-z_]{1,32})":(0|[1-9][0-9]{0,14}|"[^"\\]{0,64}"|true|false|null)$/

/**
 * Reads the top-level members at the end of a JSON object text, backwards, as long as their
 * values are primitives. For a valid JSON text that ends with `,"id":123}` the member is a
 * top-level one: the argument of src/gateway/response-line.ts, steps 1 and 2, applied to each
 * member in turn (a member's value is a primitive, so each `,` is structural and no nesting lies
 * between the members and the final `}`).
 */
export function tailMembers(text: string): Members {
  const out: Members = new Map()
  let rest = text.trimEnd()
  if (!rest.endsWith('}')) return out
  rest = rest.slice(0, -1)
  for (;;) {
    const m = LAST_MEMBER.exec(rest)
    if (!m) return out
    // The last of duplicate keys wins (as JSON.parse): keep the first one found from the end.
    if (!out.has(m[2]!)) out.set(m[2]!, JSON.parse(m[3]!) as Primitive)
    if (m[1] === '{') return out
    rest = rest.slice(0, m.index)
  }
}
