/**
 * JSON parsing that refuses duplicate member names. JSON.parse keeps the last of duplicates
 * silently, so `{"refresh_token":"a","refresh_token":"b"}` would pass where the form body
 * `refresh_token=a&refresh_token=b` is refused: RFC 6749 §3.1, §3.2 ("Request and response
 * parameters MUST NOT be included more than once"); RFC 8259 §4 ("names within an object SHOULD
 * be unique"; behaviour with duplicates is unpredictable). The structure is read by
 * @humanwhocodes/momoa (the JSON parser behind ESLint's JSON support), the values by JSON.parse.
 */
import {parse, type AnyNode} from '@humanwhocodes/momoa'

export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError'
}

export class DuplicateMemberError extends Error {
  override readonly name = 'DuplicateMemberError'
  /**
   * @param key the repeated member name
   * @param topLevel true when it is a member of the top-level object (an OAuth parameter)
   */
  constructor(
    readonly key: string,
    readonly topLevel: boolean,
  ) {
    super(`member ${JSON.stringify(key.slice(0, 100))} is repeated`)
  }
}

/**
 * Parses JSON text; throws JsonSyntaxError for invalid JSON (or nesting too deep to read) and
 * DuplicateMemberError for an object, at any depth, that names a member twice.
 */
export function parseJsonStrict(text: string): unknown {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new JsonSyntaxError('the body is not valid JSON')
  }
  // Only objects can repeat a name: a text without one has nothing more to check.
  if (typeof value !== 'object' || value === null || !text.includes('{')) return value
  let root: AnyNode
  try {
    root = parse(text, {mode: 'json'}).body
  } catch {
    // Valid for JSON.parse but not readable here (nesting deep enough to exhaust the stack).
    throw new JsonSyntaxError('the body is nested too deeply')
  }
  // Iterative walk: no recursion over client-controlled depth.
  const stack: Array<{node: AnyNode; top: boolean}> = [{node: root, top: true}]
  while (stack.length > 0) {
    const {node, top} = stack.pop()!
    if (node.type === 'Object') {
      const seen = new Set<string>()
      for (const member of node.members) {
        const name = member.name.type === 'String' ? member.name.value : member.name.name
        if (seen.has(name)) throw new DuplicateMemberError(name, top)
        seen.add(name)
        stack.push({node: member.value, top: false})
      }
    } else if (node.type === 'Array') {
      for (const element of node.elements) stack.push({node: element.value, top: false})
    }
  }
  return value
}
